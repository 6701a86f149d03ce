"""`python -m cnnviz [MODEL] [--port N] ...`: the same as the `cnnviz` command (cnnviz.launch.cli)."""

import sys

from cnnviz.launch.cli import main

if __name__ == "__main__":
    sys.exit(main())
