"""``python -m community_safety.core.cli``: the command line, as ``community-safety``."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
