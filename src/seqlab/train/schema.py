"""The run-folder JSON readers of :mod:`seqlab._schema`, under the name that the
training and sentiment code import; everything here is defined there."""

from seqlab._schema import *  # noqa: F403
from seqlab._schema import __all__  # noqa: F401
