# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. RNN, LSTM and GRU cells, and the vanishing gradient
#
# A recurrent network keeps a *hidden state* `h_t`, a summary of everything it has
# read so far, and updates it at every step from the new input `x_t` with the same
# weights. A *cell* is that one-step update. This tutorial
#
# 1. writes the three classic cells as their equations, in a few lines of torch each,
#    and checks them against `torch.nn` with the same weights;
# 2. checks seqlab's layers (which run whole sequences) against `torch.nn`'s;
# 3. shows why LSTM and GRU exist: how much gradient reaches an input 100 steps back.

# %%
import os
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.testing import assert_close

QUICK = os.environ.get("SEQLAB_DOCS_QUICK", "1") != "0"
FIGURES = Path(os.environ.get("SEQLAB_DOCS_FIGURES") or tempfile.mkdtemp(prefix="seqlab-02-"))
FIGURES.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)


def show(figure, name=None):
    """Keep a figure as a PNG under FIGURES and display it in a notebook."""
    path = FIGURES / name
    figure.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(figure)
    if "ipykernel" in sys.modules:
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    else:
        print(f"[figure] {path}")


# %% [markdown]
# ## 1. The cells as equations
#
# Shapes: a batch of `N` inputs of size `H_in`, hidden size `H`. Every gate is an affine
# map of the input plus an affine map of the previous hidden state,
# `W_i· x + b_i· + W_h· h + b_h·`. `torch.nn` stacks the gates' weights in one matrix
# (`weight_ih` is `(gates·H, H_in)`), so each cell below computes all the gates at once
# and splits them with `chunk`.
#
# **Elman RNN**: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.


# %%
def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)


# %% [markdown]
# **LSTM** (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).
# A second state, the *cell* `c`, is updated additively: the forget gate `f` decides
# how much of the old cell to keep, the input gate `i` how much of the candidate `g` to
# write, and the output gate `o` how much of the cell to show as `h`:
#
# ```text
# i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)       (torch's gate order)
# i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);  g = tanh(g)
# c' = f * c + i * g
# h' = o * tanh(c')
# ```


# %%
def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh  # (N, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


# %% [markdown]
# **GRU** (Cho et al. 2014). One state; the update gate `z` mixes the old state with a
# candidate `n`, and the reset gate `r` decides how much of the old state the candidate
# may read:
#
# ```text
# r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
# z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
# n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
# h' = (1 - z) * n + z * h
# ```


# %%
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


# %% [markdown]
# Now the check: build each `torch.nn` cell, hand *its* weights to our function, and
# compare the outputs and the gradients with respect to the input.

# %%
N, H_in, H = 5, 3, 4
x = torch.randn(N, H_in, requires_grad=True)
h = torch.randn(N, H)
c = torch.randn(N, H)


def weights(cell):
    return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh


def same_output_and_gradient(ours, theirs):
    """Outputs equal, and d(sum of outputs)/dx equal."""
    assert_close(ours, theirs)
    (grad_ours,) = torch.autograd.grad(ours.sum(), x, retain_graph=True)
    (grad_theirs,) = torch.autograd.grad(theirs.sum(), x)
    assert_close(grad_ours, grad_theirs)


rnn = nn.RNNCell(H_in, H)
same_output_and_gradient(rnn_cell(x, h, *weights(rnn)), rnn(x, h))

lstm = nn.LSTMCell(H_in, H)
h_ours, c_ours = lstm_cell(x, h, c, *weights(lstm))
h_torch, c_torch = lstm(x, (h, c))
same_output_and_gradient(torch.cat([h_ours, c_ours], 1), torch.cat([h_torch, c_torch], 1))

gru = nn.GRUCell(H_in, H)
same_output_and_gradient(gru_cell(x, h, *weights(gru)), gru(x, h))
print("RNN, LSTM and GRU equations match torch.nn (outputs and input gradients)")

# %% [markdown]
# ## 2. seqlab's layers against torch.nn's
#
# `seqlab.nn.LSTM` (and `RNN`, `GRU`) take the same arguments as `torch.nn.LSTM` and
# keep the same parameter names, so a `state_dict` moves between them both ways. Here
# a two-layer bidirectional LSTM gets torch's weights and must give the same outputs
# and final states, for a batch of sequences of different lengths.

# %%
from seqlab.nn import GRU, LSTM

config = {"input_size": 8, "hidden_size": 16, "num_layers": 2, "batch_first": True}
reference = nn.LSTM(**config, bidirectional=True)
ours = LSTM(**config, bidirectional=True)
ours.load_state_dict(reference.state_dict())

sequences = torch.randn(4, 10, 8)
lengths = torch.tensor([10, 7, 3, 1])
packed = nn.utils.rnn.pack_padded_sequence(sequences, lengths, batch_first=True)
packed_out, (h_ref, c_ref) = reference(packed)
out_ref, _ = nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True, total_length=10)

out, (h_n, c_n) = ours(sequences, lengths=lengths)
assert_close(out, out_ref)
assert_close(h_n, h_ref)
assert_close(c_n, c_ref)
print("seqlab.nn.LSTM == torch.nn.LSTM:", tuple(out.shape), tuple(h_n.shape))

gru_ref = nn.GRU(**config)
gru_ours = GRU(**config)
gru_ours.load_state_dict(gru_ref.state_dict())
assert_close(gru_ours(sequences)[0], gru_ref(sequences)[0])
print("seqlab.nn.GRU == torch.nn.GRU")

# %% [markdown]
# `lengths=` replaces torch's pack/unpack dance: padded steps never reach the state,
# and the outputs there are zeros, as `pad_packed_sequence` gives.
#
# ## 3. Why LSTM and GRU: the vanishing gradient
#
# Training a recurrent network back-propagates through every step (BPTT, tutorial 3).
# The gradient that reaches the input at step `t` from a loss at the last step `T` is a
# product of `T - t` Jacobians `∂h_{k+1}/∂h_k`. For the plain RNN each factor is
# `diag(tanh'(·)) W_hh`: when its norm is below one the product shrinks exponentially,
# and the network cannot learn what happened many steps ago.
#
# The LSTM's cell is updated additively, `c' = f * c + i * g`, so along the cell the
# factor is just the forget gate `f`; the GRU's is the update gate `z`. Gates near 1
# keep the path open. At initialisation they sit near 0.5, but they are learned, and a
# common initialisation (Gers et al. 2000; Jozefowicz et al. 2015) starts the forget
# gate's bias at 1 so that the cell remembers from the first step.
#
# The experiment: run each cell over 100 random input steps, take the loss
# `sum(h_100)`, and measure `‖∂loss/∂x_t‖` for every step `t`.

# %%
from seqlab.nn import GRUCell, LSTMCell, RNNCell

STEPS, BATCH, INPUT, HIDDEN = 100, 32, 16, 64


def input_gradient_norms(cell, has_cell_state=False, seed=0):
    """‖∂ sum(h_T) / ∂x_t‖ for t = 1..T, over a batch of random sequences.

    In float64: the plain RNN's gradients fall below float32's smallest number.
    """
    cell = cell.double()
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(STEPS, BATCH, INPUT, generator=generator, dtype=torch.float64)
    inputs.requires_grad_(True)
    h = torch.zeros(BATCH, HIDDEN, dtype=torch.float64)
    c = torch.zeros(BATCH, HIDDEN, dtype=torch.float64)
    for t in range(STEPS):
        if has_cell_state:
            h, c = cell(inputs[t], (h, c))
        else:
            h = cell(inputs[t], h)
    h.sum().backward()
    return inputs.grad.norm(dim=(1, 2))  # (STEPS,)


def with_gate_bias(cell, gate, value=1.0):
    """The cell with ``value`` added to one gate's input bias (gate index in torch order)."""
    with torch.no_grad():
        cell.bias_ih[gate * HIDDEN : (gate + 1) * HIDDEN] += value
    return cell


torch.manual_seed(1)
curves = {
    "RNN (tanh)": input_gradient_norms(RNNCell(INPUT, HIDDEN)),
    "GRU": input_gradient_norms(GRUCell(INPUT, HIDDEN)),
    "LSTM": input_gradient_norms(LSTMCell(INPUT, HIDDEN), has_cell_state=True),
    "GRU, update-gate bias +1": input_gradient_norms(
        with_gate_bias(GRUCell(INPUT, HIDDEN), gate=1)
    ),
    "LSTM, forget-gate bias +1": input_gradient_norms(
        with_gate_bias(LSTMCell(INPUT, HIDDEN), gate=1), has_cell_state=True
    ),
}

fig, ax = plt.subplots(figsize=(8, 4.2))
steps = torch.arange(1, STEPS + 1)
for name, norms in curves.items():
    ax.semilogy(steps, norms, label=name)
ax.set_xlabel("input step t (the loss is at step 100)")
ax.set_ylabel("‖∂loss / ∂x_t‖ (log scale)")
ax.set_title("How much gradient reaches each input step")
ax.grid(alpha=0.3, which="both")
ax.legend(frameon=False, fontsize=9)
show(fig, "vanishing_gradient.png")

for name, norms in curves.items():
    print(f"{name:>26}: step 100 {norms[-1]:.2g}, step 75 {norms[74]:.2g}, step 50 {norms[49]:.2g}")

# %% [markdown]
# Reading the plot (each line falls to the left, the further back from the loss):
#
# - the plain RNN's gradient falls fastest, by many orders of magnitude within a few
#   dozen steps: an input 50 steps back has practically no influence on learning;
# - LSTM and GRU at their default initialisation also decay, because their gates start
#   near 0.5, but more slowly;
# - with the forget gate (LSTM) or update gate (GRU) biased towards "keep", the decay
#   flattens: gradient still reaches inputs 50 steps back, which is what lets these
#   cells learn long-range dependencies. Training moves the gates there when the task
#   needs it; the plain RNN has no such gate to move.
