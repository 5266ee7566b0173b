"""The daemon: its parts assembled, the event loop, signals, systemd and the state folder."""
