"""The state database: the session in progress, and the sessions and holds done; written by
the daemon and read by ``bedside history``.

    rows.py     what is kept (Progress, Session, GrowthRow), a step's fingerprint, each row
                checked when read
    schema.py   the tables, and earlier or other shapes brought to them
    store.py    Store: the daemon's writer; never raises, keeps what it could not write
    keeper.py   Keeper: when the daemon writes progress
    report.py   Report: read-only, for ``bedside history``; HistoryUnavailable
    trouble.py  a damaged file told from a full or read-only one; errors in plain words

The database's path is always passed in: where it lives is the app's to decide.
"""
