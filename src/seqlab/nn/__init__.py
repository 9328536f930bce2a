"""seqlab.nn: recurrent cells and layers, parameter-compatible with torch.nn.

numba is optional here: the float32 kernels use it when installed (imported on first
need), and the layers fall back to torch ops without it.
"""

import seqlab

seqlab._require("seqlab.nn", "torch")

from seqlab.nn.cells import GRUCell, LSTMCell, RNNCell
from seqlab.nn.layers import GRU, LSTM, RNN
from seqlab.nn.tbptt import TBPTTResult, chunk_plan, detach_state, truncated_bptt

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "TBPTTResult",
    "chunk_plan",
    "detach_state",
    "truncated_bptt",
]
