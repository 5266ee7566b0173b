"""Reading files: ``bedside.toml`` and the routine files, into the core's terms, every mistake
a located problem."""
