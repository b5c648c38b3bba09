"""`python -m neuronlab reproduce --out DIR ...`: see `neuronlab.reproduce`."""
from .reproduce import main

raise SystemExit(main())
