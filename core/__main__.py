"""``python -m convoport``: the command line.

The guard matters: the worker processes of a local Dask cluster (``--workers N``) start by
spawning, which imports the main module again as ``__mp_main__``; without it each would run
the command line once more.
"""

from convoport.cli import main

if __name__ == "__main__":
    main()
