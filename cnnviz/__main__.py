"""`python -m cnnviz [MODEL] [--port N] ...`: the same as the `cnnviz` command (cnnviz.cli)."""

import sys

from cnnviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
