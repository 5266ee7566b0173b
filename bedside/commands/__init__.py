"""The ``bedside`` command and each of its subcommands."""
