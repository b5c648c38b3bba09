"""neuronlab: a hands-on course on how gradient descent shrinks a one-hidden-layer ReLU network.

The course follows H. Pinson, "It's Not a Lottery, It's a Race" (arXiv 2602.04832): mutual
alignment, unlocking and racing of neurons. The notebooks in ``notebooks/`` stay thin; the
reusable parts live in the submodules of this package (import them explicitly, e.g.
``from neuronlab.data import cifar_task``).
"""

__version__ = "0.1.0"
