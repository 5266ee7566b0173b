"""The ``bedside`` command: ``cli`` reads the arguments and hands each command to the module
named for it (``run``, ``demo``, ``routines``, ``history``, ``plan``, ``simulate``,
``check_config``, ``selftest``, ``screens``, ``voice``), which does its work and prints.

What several commands share: ``choices`` (a routine's name, a button script, the history a
report reads, each checked once) and ``tonight`` (tonight's length of the hold that grows).
"""
