"""purenet: a neural network that learns MNIST, written in pure Python.

Read in this order: matrix.py (lists as vectors and matrices), network.py
(the forward pass and the short-form backward pass), jacobian.py (the long
form), gradcheck.py (finite differences that check both), train.py (SGD
with momentum, epoch after epoch).  Those five hold every equation that
trains the network; speed/ computes the same numbers faster, and the rest
is files, workbooks and the command line.
"""

__version__ = "0.1.0"
