"""seqlab.nn (exports are added by each module's author as the module lands)."""

# ruff: noqa: E402  (torch is checked first, so a core install gets one clear error)
import seqlab

seqlab._require("seqlab.nn", "torch", "numba")

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
