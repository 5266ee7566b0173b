"""``python -m bedside``: the same as the ``bedside`` command."""

import sys

from bedside.commands.cli import main

sys.exit(main())
