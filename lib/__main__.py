"""`python -m lib ...` from the project root: the command line of the `aestudy` package beside it
(the same as the `aestudy` command and `python -m aestudy`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this checkout's aestudy, not another one

from aestudy.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(prog="python -m lib"))
