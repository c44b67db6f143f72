import sys

from web.cli import main

# Guarded: worker processes (web/workers.py, multiprocessing "spawn") import this module.
if __name__ == "__main__":
    sys.exit(main())
