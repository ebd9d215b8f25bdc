"""``python -m pipelines.bench``: see :mod:`pipelines.bench`."""

import sys

from pipelines.bench.cli import main

# Guarded: the benchmark's spawned child processes import this module again (as ``__mp_main__``).
if __name__ == "__main__":
    sys.exit(main())
