"""A recurrent word-level language model with tied embeddings and an adaptive softmax.

    ids (N, T) -> embedding (N, T, E) -> locked dropout -> LSTM (N, T, H)
        -> locked dropout -> [linear H -> E] -> tied adaptive softmax over the vocabulary

The encoder is :class:`seqlab.nn.LSTM` (``encoder="lstm"``) or, for comparisons at the
same size, :class:`torch.nn.LSTM` (``encoder="torch_lstm"``); both have the same parameter
names, so weights move between them. Locked (variational) dropout uses one mask per
sequence for every time step (Gal & Ghahramani 2016; Merity et al. 2018, AWD-LSTM).

The softmax is an adaptive softmax (Grave et al. 2017) whose word vectors are the input
embedding's rows (Press & Wolf 2017; Inan et al. 2017): the vocabulary, ordered by
frequency as :class:`seqlab.text.Vocab` orders it, is cut at ``cutoffs``; the head scores
the first ``cutoffs[0]`` words and one entry per tail cluster, and a tail's words are
scored only for the tokens whose target lies in it (training) or when the full
distribution is asked for (:meth:`LanguageModel.log_probs`). Tail ``k`` scores in a
smaller space: the hidden state and the tail's tied word vectors are both projected to
``embedding_dim / tail_div**(k+1)`` dimensions. ``cutoffs=()`` is the full softmax.
``log p(w) = log p_head(cluster of w) + log p_cluster(w)``, exactly normalised.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.models.registry import (
    MAX_DIMENSION,
    MAX_LAYERS,
    MAX_VOCAB_SIZE,
    ModelConfig,
    check_size,
    embedding_vectors,
    register_model,
)
from seqlab.nn import LSTM

__all__ = ["LM_ENCODERS", "LanguageModel", "LanguageModelConfig", "TiedAdaptiveSoftmax"]

LM_ENCODERS = ("lstm", "torch_lstm")


@dataclass
class LanguageModelConfig(ModelConfig):
    vocab_size: int = 30_002  # rows of the embedding (the specials included)
    embedding_dim: int = 128  # also the softmax's word-vector size (tied)
    hidden_size: int = 256
    num_layers: int = 1
    encoder: str = "lstm"  # one of LM_ENCODERS
    cutoffs: list[int] = field(default_factory=lambda: [1000, 5000])  # adaptive softmax
    tail_div: int = 4  # tail k scores in embedding_dim / tail_div**(k+1) dimensions
    input_dropout: float = 0.1  # locked dropout on the embeddings
    rnn_dropout: float = 0.1  # between stacked layers
    output_dropout: float = 0.1  # locked dropout on the last layer's outputs

    def __post_init__(self) -> None:
        for name, maximum in (
            ("vocab_size", MAX_VOCAB_SIZE),
            ("embedding_dim", MAX_DIMENSION),
            ("hidden_size", MAX_DIMENSION),
            ("num_layers", MAX_LAYERS),
            ("tail_div", MAX_DIMENSION),
        ):
            check_size(getattr(self, name), f"LanguageModelConfig.{name}", maximum)
        if self.encoder not in LM_ENCODERS:
            raise ValueError(f"encoder must be one of {LM_ENCODERS}, got {self.encoder!r}.")
        cutoffs = list(self.cutoffs)
        for value in cutoffs:
            check_size(value, "LanguageModelConfig.cutoffs", MAX_VOCAB_SIZE)
        if cutoffs != sorted(set(cutoffs)) or (cutoffs and cutoffs[-1] >= self.vocab_size):
            raise ValueError(
                "LanguageModelConfig.cutoffs must increase and stay below vocab_size "
                f"{self.vocab_size}, got {cutoffs}."
            )
        self.cutoffs = cutoffs
        for name in ("input_dropout", "rnn_dropout", "output_dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"LanguageModelConfig.{name} must be a number, got {value!r}.")
            if not 0.0 <= value < 1.0:
                raise ValueError(f"LanguageModelConfig.{name} must be in [0, 1), got {value!r}.")


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout of ``x`` (N, T, D) with one mask per sequence, shared by every step."""
    if not training or p == 0.0:
        return x
    mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)
    return x * mask


class TiedAdaptiveSoftmax(nn.Module):
    """Adaptive softmax whose word vectors are passed in (the tied embedding's weight).

    Holds only the cluster vectors of the head and one output bias per word; see the
    module docstring for the factorisation.
    """

    def __init__(self, vocab_size: int, dim: int, cutoffs: list[int], tail_div: int = 4) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.bounds = [0, *cutoffs, vocab_size]
        self.shortlist = self.bounds[1]
        self.clusters = nn.Parameter(torch.randn(len(cutoffs), dim) * dim**-0.5)
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        self.cluster_bias = nn.Parameter(torch.zeros(len(cutoffs)))
        # Tail k scores in dimension dim / tail_div**(k+1): the hidden state and the
        # tail's (tied) word vectors are both projected there.
        sizes = [max(1, dim // tail_div ** (k + 1)) for k in range(len(cutoffs))]
        self.hidden_proj = nn.ModuleList(nn.Linear(dim, d, bias=False) for d in sizes)
        self.word_proj = nn.ModuleList(nn.Linear(dim, d, bias=False) for d in sizes)

    def _split(self, weight: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        # One split of the weight and the bias (their backward is one concatenation,
        # not a zero-filled full-size gradient per slice).
        sizes = [hi - lo for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True)]
        return list(weight.split(sizes)), list(self.bias.split(sizes))

    def _head(self, hidden: Tensor, words: list[Tensor], biases: list[Tensor]) -> Tensor:
        head_w = torch.cat([words[0], self.clusters], dim=0)
        head_b = torch.cat([biases[0], self.cluster_bias])
        return F.log_softmax(F.linear(hidden, head_w, head_b).float(), dim=-1)

    def _tail(self, hidden: Tensor, words: list[Tensor], biases: list[Tensor], k: int) -> Tensor:
        projected = self.word_proj[k](words[k + 1])
        logits = F.linear(self.hidden_proj[k](hidden), projected, biases[k + 1])
        return F.log_softmax(logits.float(), dim=-1)

    def nll(self, hidden: Tensor, weight: Tensor, targets: Tensor) -> Tensor:
        """Negative log-likelihood of each target: ``hidden`` (M, E), ``targets`` (M,)."""
        words, biases = self._split(weight)
        head = self._head(hidden, words, biases)
        short = targets < self.shortlist
        out = torch.empty(targets.shape, dtype=head.dtype, device=head.device)
        rows = torch.arange(targets.shape[0], device=targets.device)
        out[short] = -head[rows[short], targets[short]]
        for k in range(len(self.bounds) - 2):
            lo, hi = self.bounds[k + 1], self.bounds[k + 2]
            chosen = (targets >= lo) & (targets < hi)
            if not bool(chosen.any()):
                continue
            index = rows[chosen]
            tail = self._tail(hidden[index], words, biases, k)
            picked = tail.gather(1, (targets[index] - lo).unsqueeze(1)).squeeze(1)
            out[index] = -(head[index, self.shortlist + k] + picked)
        return out

    def log_probs(self, hidden: Tensor, weight: Tensor) -> Tensor:
        """Log-probabilities of every word, ``(M, vocab_size)``; each row sums to one."""
        words, biases = self._split(weight)
        head = self._head(hidden, words, biases)
        parts = [head[:, : self.shortlist]]
        for k in range(len(self.bounds) - 2):
            cluster = head[:, self.shortlist + k : self.shortlist + k + 1]
            parts.append(cluster + self._tail(hidden, words, biases, k))
        return torch.cat(parts, dim=1)


class LanguageModel(nn.Module):
    """Recurrent language model; see the module docstring for the architecture.

    ``forward(inputs, targets=None, state=None)``: ``inputs`` (N, T) int64 ids. With
    ``targets`` (N, T), returns the per-token negative log-likelihoods (N, T) (what
    training needs); without, returns ``(features, state)``: the softmax inputs
    (N, T, E) and the LSTM's final ``(h, c)``, to pass on for the next step
    (:meth:`log_probs` turns features into log-probabilities).
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        if not isinstance(config, LanguageModelConfig):
            raise TypeError(f"config must be a LanguageModelConfig, got {type(config).__name__}.")
        self.config = c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
        nn.init.normal_(self.embedding.weight, std=c.embedding_dim**-0.5)
        layer = LSTM if c.encoder == "lstm" else nn.LSTM
        self.encoder = layer(
            c.embedding_dim,
            c.hidden_size,
            num_layers=c.num_layers,
            batch_first=True,
            dropout=c.rnn_dropout if c.num_layers > 1 else 0.0,
        )
        self.projection = (
            nn.Linear(c.hidden_size, c.embedding_dim)
            if c.hidden_size != c.embedding_dim
            else nn.Identity()
        )
        self.softmax = TiedAdaptiveSoftmax(c.vocab_size, c.embedding_dim, c.cutoffs, c.tail_div)

    def load_embedding(self, vectors: np.ndarray | Tensor) -> None:
        """Copy word vectors (``(vocab_size, embedding_dim)``) into the tied embedding."""
        vectors = embedding_vectors(vectors, self.embedding.weight)
        with torch.no_grad():
            scale = vectors.std().clamp(min=1e-8)
            self.embedding.weight.copy_(vectors / scale * self.config.embedding_dim**-0.5)

    def features(self, inputs: Tensor, state=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Softmax inputs (N, T, E) and the final LSTM state for ``inputs`` (N, T)."""
        if inputs.dim() != 2:
            raise ValueError(f"inputs must be (batch, steps) ids, got {tuple(inputs.shape)}.")
        c = self.config
        x = locked_dropout(self.embedding(inputs), c.input_dropout, self.training)
        out, state = self.encoder(x, state)
        out = locked_dropout(out, c.output_dropout, self.training)
        return self.projection(out), state

    def log_probs(self, features: Tensor) -> Tensor:
        """Log-probabilities over the vocabulary for ``features`` (..., E)."""
        flat = features.reshape(-1, features.shape[-1])
        out = self.softmax.log_probs(flat, self.embedding.weight)
        return out.reshape(*features.shape[:-1], out.shape[-1])

    def forward(self, inputs: Tensor, targets: Tensor | None = None, state=None):
        feats, state = self.features(inputs, state)
        if targets is None:
            return feats, state
        if targets.shape != inputs.shape:
            raise ValueError(
                f"targets {tuple(targets.shape)} must have the shape of inputs "
                f"{tuple(inputs.shape)}."
            )
        flat = feats.reshape(-1, feats.shape[-1])
        nll = self.softmax.nll(flat, self.embedding.weight, targets.reshape(-1))
        return nll.reshape(targets.shape)


register_model("language_model", LanguageModelConfig, LanguageModel)
