"""The state database: progress, sessions and holds, written by the daemon and read by
``bedside history``."""
