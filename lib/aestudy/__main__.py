"""`python -m aestudy ...`: the same command line as `aestudy` (see aestudy.cli)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m aestudy"))
