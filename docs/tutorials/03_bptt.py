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
# # 3. Back-propagation through time, truncated, and the four forms
#
# A recurrent network applies the same cell at every step, so its computation over a
# sequence is a very deep network whose layers share weights. **Back-propagation
# through time (BPTT)** is ordinary back-propagation through that unrolled network:
# the gradient of a loss at step `t` flows back through steps `t-1, t-2, ...` to the
# start. On long sequences that is expensive in memory and time, so **truncated BPTT**
# runs the sequence in chunks of `k1` steps, carries the hidden state forward from
# chunk to chunk, but lets gradients flow back at most `k2` steps.
#
# This tutorial shows exactly what truncation keeps and loses, then trains a small
# network on a task that *needs* a long enough `k2`, and ends with the four
# input/output forms of recurrent networks (one-to-many, many-to-one, and the two
# many-to-many) on toy data.

# %%
import os
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

QUICK = os.environ.get("SEQLAB_DOCS_QUICK", "1") != "0"
FIGURES = Path(os.environ.get("SEQLAB_DOCS_FIGURES") or tempfile.mkdtemp(prefix="seqlab-03-"))
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
# ## 1. How truncated BPTT cuts a sequence
#
# `seqlab.nn.truncated_bptt(step, inputs, targets, loss_fn, k1, k2)` runs `step` (any
# recurrent layer, or a model returning `(outputs, state)`) chunk by chunk.
# `chunk_plan` shows the plan: each chunk's loss covers steps `[start, end)`, and the
# chunk is run from the state at `replay_start`, detached there. With `k2 > k1` the
# `k2 - k1` steps before the chunk are run again, so that each loss reaches `k2` steps
# back at most, exactly (Williams & Peng 1990).

# %%
from seqlab.nn import GRU, LSTM, chunk_plan, truncated_bptt

print("k1 = k2 = 5 (detach between chunks):", list(chunk_plan(20, k1=5)))
print("k1 = 5, k2 = 8 (replay 3 steps):   ", list(chunk_plan(20, k1=5, k2=8)))

# %% [markdown]
# Two properties pin the definition down. First, with `k2` at least the sequence
# length (and no optimizer step in between), the chunks' gradients add up to full BPTT:

# %%
layer = LSTM(input_size=3, hidden_size=8, batch_first=True)
head = nn.Linear(8, 1)
inputs = torch.randn(4, 30, 3)
targets = torch.randn(4, 30, 1)


def step(chunk, state):
    outputs, state = layer(chunk, state)
    return head(outputs), state


def mse(outputs, targets):
    return F.mse_loss(outputs, targets)


full_loss = mse(step(inputs, None)[0], targets)
full_grads = torch.autograd.grad(full_loss, list(layer.parameters()))

layer.zero_grad()
result = truncated_bptt(step, inputs, targets, mse, k1=10, k2=30)
for grad, param in zip(full_grads, layer.parameters(), strict=True):
    assert_close(param.grad, grad)
print(f"k2 >= length: {result.chunks} chunks, loss {result.loss:.4f} = full {full_loss:.4f}")

# %% [markdown]
# Second, with a short `k2`, inputs further back than `k2` steps get *no* gradient
# from a loss. Here the only loss is at the last step, and we measure the gradient that
# reaches each input step, under full BPTT and under TBPTT with `k1 = k2 = 5`.


# %%
def gradient_reach(k1=None, k2=None, length=30):
    """‖∂ loss(last step) / ∂x_t‖ per step t: full BPTT when k1 is None."""
    x = inputs[:1, :length].clone().requires_grad_(True)
    weights = torch.zeros(1, length, 1)
    weights[0, -1] = 1.0  # the loss is the output at the last step

    def last_step_loss(outputs, chunk_weights):
        return (outputs * chunk_weights).sum() * length / outputs.shape[1]

    if k1 is None:
        last_step_loss(step(x, None)[0], weights).backward()
    else:
        truncated_bptt(step, x, weights, last_step_loss, k1=k1, k2=k2)
    return x.grad[0].norm(dim=1)


reach_full = gradient_reach()
reach_truncated = gradient_reach(k1=5, k2=5)
print("steps that receive gradient, full BPTT:", int((reach_full > 0).sum()))
print("steps that receive gradient, TBPTT(5): ", int((reach_truncated > 0).sum()))

fig, ax = plt.subplots(figsize=(8, 3.6))
steps = torch.arange(1, 31)
ax.semilogy(steps, reach_full, "o-", label="full BPTT")
ax.semilogy(steps, reach_truncated.clamp_min(1e-12), "s--", label="truncated, k1 = k2 = 5")
ax.set_xlabel("input step t (the loss is at step 30)")
ax.set_ylabel("‖∂loss / ∂x_t‖")
ax.set_title("Truncation cuts the gradient after k2 steps (zeros drawn at 1e-12)")
ax.grid(alpha=0.3, which="both")
ax.legend(frameon=False)
show(fig, "gradient_reach.png")

# %% [markdown]
# ## 2. What truncation costs: a task that needs memory
#
# The *echo* task: a stream of random bits, and the target at step `t` is the input
# bit at step `t - 8`. To learn it, the network must connect an output to an input 8
# steps earlier. The state is carried forward between chunks either way, so the
# network *could* remember; but with `k2 = 5` no gradient ever links the output to the
# input 8 steps back, so it cannot *learn* to. With `k2 = 16` it can. Each epoch is
# one pass over a new batch of streams, with an optimizer step after every chunk.

# %%
DELAY = 8
EPOCHS = 12 if QUICK else 30
STREAMS, LENGTH = 32, 200 if QUICK else 400


def echo_batch(seed):
    generator = torch.Generator().manual_seed(seed)
    bits = torch.randint(0, 2, (STREAMS, LENGTH, 1), generator=generator).float()
    echo = torch.zeros_like(bits)
    echo[:, DELAY:] = bits[:, :-DELAY]
    return bits, echo


class Echo(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = GRU(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, chunk, state=None):
        outputs, state = self.rnn(chunk, state)
        return self.head(outputs), state


def train_echo(k1, k2):
    torch.manual_seed(0)
    model = Echo()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    test_bits, test_echo = echo_batch(seed=10_000)
    accuracy = []
    for epoch in range(EPOCHS):
        bits, echo = echo_batch(seed=epoch)
        truncated_bptt(
            model, bits, echo, F.binary_cross_entropy_with_logits, k1, k2, optimizer=optimizer
        )
        with torch.no_grad():
            predicted = (model(test_bits)[0][:, DELAY:] > 0).float()
        accuracy.append((predicted == test_echo[:, DELAY:]).float().mean().item())
    return accuracy


echo_curves = {f"k1 = 5, k2 = {k2}": train_echo(5, k2) for k2 in (5, 16)}
for name, accuracy in echo_curves.items():
    print(f"{name}: accuracy after {EPOCHS} epochs {accuracy[-1]:.2f}")

fig, ax = plt.subplots(figsize=(7, 3.6))
for name, accuracy in echo_curves.items():
    ax.plot(range(1, EPOCHS + 1), accuracy, marker="o", label=name)
ax.axhline(0.5, color="grey", ls=":", label="chance")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_title(f"Echo the bit from {DELAY} steps back")
ax.grid(alpha=0.3)
ax.legend(frameon=False)
show(fig, "echo_task.png")

# %% [markdown]
# With `k2 = 5` the accuracy stays at chance; with `k2 = 16` the network learns the
# task within a few epochs. The rule of thumb: `k2` must cover the longest dependency
# you need the network to learn; `k1` (how often the weights are updated) can be
# smaller.
#
# ## 3. The four forms
#
# The same recurrent layers serve four shapes of problem. `seqlab.models.forms` has one
# small model for each; every one here learns a toy task with an exact rule in a few
# hundred Adam steps, and is tested on sequences it has not seen.
#
# | form | model | toy task |
# | --- | --- | --- |
# | many-to-one | `ManyToOne` | is the sum of a ±1 sequence positive? (sentiment analysis) |
# | many-to-many, aligned | `AlignedTagger` | tag each step with the previous token (tagging) |
# | many-to-many, encoder-decoder | `Seq2Seq` | reverse the sequence (translation) |
# | one-to-many | `CharSampler` | generate "hello world" from "h" (captioning, generation) |

# %%
from seqlab.models.forms import (
    AlignedTagger,
    AlignedTaggerConfig,
    CharSampler,
    CharSamplerConfig,
    ManyToOne,
    ManyToOneConfig,
    Seq2Seq,
    Seq2SeqConfig,
)

generator = torch.Generator().manual_seed(0)


def fit(model, make_batch, loss_fn, steps, lr=1e-2):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn(model, *make_batch())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


# %% [markdown]
# **Many-to-one.** Sequences of ±1 of odd lengths 1 to 9 (padded to 9); label 1 when
# there are more +1 than -1. `lengths=` makes the model read each sequence's state at
# its true last step.


# %%
def majority_batch(size=64):
    lengths = 2 * torch.randint(0, 5, (size,), generator=generator) + 1
    signs = torch.randint(0, 2, (size, 9), generator=generator) * 2 - 1
    signs = signs * (torch.arange(9) < lengths[:, None])  # zero the padding
    return signs[..., None].float(), lengths, (signs.sum(1) > 0).long()


many_to_one = fit(
    ManyToOne(ManyToOneConfig(input_size=1, hidden_size=16, cell="gru")),
    majority_batch,
    lambda m, x, n, y: F.cross_entropy(m(x, lengths=n), y),
    steps=200,
)
x, lengths, labels = majority_batch(512)
with torch.no_grad():
    accuracy = (many_to_one(x, lengths=lengths).argmax(1) == labels).float().mean()
print(f"many-to-one, majority sign: accuracy {accuracy:.2f} (chance 0.5)")

# %% [markdown]
# **Many-to-many, aligned.** One output per input step: the tag at step `t` is the token
# at step `t - 1`, so the model must remember one step.


# %%
def previous_token_batch(size=64, length=10):
    tokens = torch.randint(0, 4, (size, length), generator=generator)
    tags = torch.cat([torch.zeros(size, 1, dtype=torch.long), tokens[:, :-1]], dim=1)
    return tokens, tags


tagger = fit(
    AlignedTagger(AlignedTaggerConfig(input_size=8, vocab_size=4, num_tags=4, hidden_size=16)),
    previous_token_batch,
    lambda m, tokens, tags: F.cross_entropy(m(tokens).reshape(-1, 4), tags.reshape(-1)),
    steps=150,
)
tokens, tags = previous_token_batch(256)
with torch.no_grad():
    accuracy = (tagger(tokens).argmax(-1) == tags).float().mean()
print(f"aligned many-to-many, previous token: accuracy {accuracy:.2f} (chance 0.25)")

# %% [markdown]
# **Many-to-many, encoder-decoder.** The encoder reads the whole source; its final state
# starts the decoder, which writes the output one token at a time (here: the source
# reversed). Training feeds the decoder the true previous token (teacher forcing);
# `generate` feeds back its own predictions.


# %%
def reverse_batch(size=64):
    source = torch.randint(2, 7, (size, 4), generator=generator)  # 0 pad, 1 start
    return source, source.flip(1)


seq2seq = fit(
    Seq2Seq(Seq2SeqConfig(source_vocab=7, target_vocab=7, hidden_size=48)),
    reverse_batch,
    lambda m, source, target: F.cross_entropy(m(source, target).reshape(-1, 7), target.reshape(-1)),
    steps=300,
)
source, target = reverse_batch(256)
accuracy = (seq2seq.generate(source, max_length=4) == target).float().mean()
print(f"encoder-decoder, reverse: token accuracy {accuracy:.2f} (chance 0.2)")
print("  e.g.", source[0].tolist(), "->", seq2seq.generate(source[:1], max_length=4)[0].tolist())

# %% [markdown]
# **One-to-many.** A character-level language model learns to predict the next
# character; given one character, it generates a sequence by feeding each prediction
# back in.

# %%
text = "hello world "
alphabet = sorted(set(text))
ids = torch.tensor([alphabet.index(ch) for ch in text * 20])


def char_batch(size=32, length=16):
    starts = torch.randint(0, len(ids) - length - 1, (size,), generator=generator)
    windows = torch.stack([ids[s : s + length + 1] for s in starts.tolist()])
    return windows[:, :-1], windows[:, 1:]


def next_char_loss(model, inputs, targets):
    logits, _ = model(inputs)
    return F.cross_entropy(logits.reshape(-1, len(alphabet)), targets.reshape(-1))


sampler = fit(
    CharSampler(CharSamplerConfig(vocab_size=len(alphabet), hidden_size=32)),
    char_batch,
    next_char_loss,
    steps=200,
)
generated = sampler.sample(alphabet.index("h"), length=10)
print("one-to-many, from 'h':", repr("h" + "".join(alphabet[i] for i in generated)))

# %% [markdown]
# Each model is a recurrent layer from `seqlab.nn` plus an input layer (embedding or
# none) and a linear head; what differs is which outputs are read (the last state, every
# step, or a decoder's steps) and what is fed back. Every one is also registered by
# name, so `seqlab.models.build_model({"name": "many_to_one", ...})` rebuilds it from a
# saved configuration.
