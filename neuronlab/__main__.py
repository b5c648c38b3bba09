"""`python -m neuronlab reproduce --out DIR ...`: see `neuronlab.reproduce`."""
import os
import sys

from .reproduce import main

code = main()
# The job's files are written and closed: leave without the interpreter's teardown, in which unloading
# torch takes about 0.4 s of the job's wall time (`benchmarks/reproduce.py`).
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
