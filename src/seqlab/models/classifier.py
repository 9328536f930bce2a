"""A recurrent sentence classifier (IMDB sentiment and any other text-classification set).

    ids (N, L) -> embedding (N, L, E) -> dropout -> recurrent encoder (N, L, D*H)
        -> pooling over time (N, P) -> dropout -> [linear + ReLU] -> linear (N, C)

The encoder is one of seqlab.nn's: ``rnncell`` (an explicit loop over
:class:`seqlab.nn.RNNCell`, the textbook's model, with the padded steps masked so each
sequence stops at its true end), ``rnn``, ``lstm`` or ``gru`` (seqlab.nn layers given
``lengths=``, so padding never enters a state). Pooling: ``last`` (each sequence's state
at its true last step, both directions), ``max`` or ``mean`` over the true steps, or
``max+mean`` (both, concatenated). The output has ``num_classes`` logits (2 for
positive/negative; a label vocabulary with an ``<unk>`` entry would give 3).
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np
import torch
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
from seqlab.nn import GRU, LSTM, RNN, RNNCell

__all__ = [
    "ENCODERS",
    "POOLINGS",
    "RNNCellEncoder",
    "SentimentClassifier",
    "SentimentConfig",
    "reverse_padded",
]

ENCODERS = ("rnncell", "rnn", "lstm", "gru")
# A recurrent layer's parameter names end in _l<layer> or _l<layer>_reverse.
_LAYER_SUFFIX = re.compile(r"_l(\d+)(?:_reverse)?$")
POOLINGS = ("last", "max", "mean", "max+mean")


@dataclass
class SentimentConfig(ModelConfig):
    vocab_size: int = 10_002  # rows of the embedding, <pad> = 0 and <unk> = 1 included
    embedding_dim: int = 128
    hidden_size: int = 128  # per direction
    encoder: str = "gru"  # one of ENCODERS
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "max+mean"  # one of POOLINGS
    rnn_dropout: float = 0.0  # between stacked recurrent layers
    embedding_dropout: float = 0.3
    output_dropout: float = 0.3
    head_hidden: int = 0  # > 0 adds a hidden linear+ReLU layer to the head (the textbook has one)
    num_classes: int = 2
    pad_index: int = 0
    freeze_embedding: bool = False  # keep pretrained vectors fixed

    def __post_init__(self) -> None:
        for name, maximum in (
            ("vocab_size", MAX_VOCAB_SIZE),
            ("embedding_dim", MAX_DIMENSION),
            ("hidden_size", MAX_DIMENSION),
            ("num_layers", MAX_LAYERS),
            ("num_classes", MAX_VOCAB_SIZE),
        ):
            check_size(getattr(self, name), f"SentimentConfig.{name}", maximum)
        check_size(self.head_hidden, "SentimentConfig.head_hidden", MAX_DIMENSION, minimum=0)
        check_size(self.pad_index, "SentimentConfig.pad_index", MAX_VOCAB_SIZE, minimum=0)
        if self.num_classes < 2:
            raise ValueError(f"SentimentConfig.num_classes must be >= 2, got {self.num_classes}.")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}.")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}.")
        for name in ("rnn_dropout", "embedding_dropout", "output_dropout"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
                raise ValueError(f"SentimentConfig.{name} must be in [0, 1), got {value!r}.")
        if not 0 <= self.pad_index < self.vocab_size:
            raise ValueError(f"pad_index {self.pad_index} is outside the vocabulary.")


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of ``x`` (N, L, ...) within its true length; padding stays put."""
    steps = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # (1, L)
    lengths = lengths.to(x.device).unsqueeze(1)  # (N, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (N, L)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return torch.gather(x, 1, index)


class RNNCellEncoder(nn.Module):
    """The textbook's encoder: a Python loop of :class:`seqlab.nn.RNNCell` over time.

    Stacked layers and a reverse direction are explicit too. A sequence's state stops
    changing after its last true step (``h = where(t < length, h_new, h)``), so the padded
    final step is never read as the sequence's end; outputs at padded steps are zero.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        dropout: float,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.num_directions = 2 if bidirectional else 1
        self.cells = nn.ModuleList()
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size * self.num_directions
            for _ in range(self.num_directions):
                self.cells.append(RNNCell(size, hidden_size))
        self.dropout = nn.Dropout(dropout)

    def _run(self, cell: RNNCell, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        batch, steps, _ = x.shape
        h = x.new_zeros(batch, self.hidden_size)
        outputs = []
        for t in range(steps):
            alive = (t < lengths).unsqueeze(1)  # (N, 1)
            h = torch.where(alive, cell(x[:, t], h), h)
            outputs.append(h * alive)
        return torch.stack(outputs, dim=1), h  # (N, L, H), (N, H)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        lengths = lengths.to(x.device)
        finals = []
        for layer in range(len(self.cells) // self.num_directions):
            if layer > 0:
                x = self.dropout(x)
            outs = []
            for direction in range(self.num_directions):
                cell = self.cells[layer * self.num_directions + direction]
                if direction == 0:
                    out, h = self._run(cell, x, lengths)
                else:
                    out, h = self._run(cell, reverse_padded(x, lengths), lengths)
                    out = reverse_padded(out, lengths)
                outs.append(out)
                finals.append(h)
            x = torch.cat(outs, dim=2)
        return x, torch.stack(finals)  # (N, L, D*H), (layers*D, N, H)


class SentimentClassifier(nn.Module):
    """Recurrent text classifier; see the module docstring for the architecture.

    ``forward(inputs, lengths=None)``: ``inputs`` (N, L) int64 token ids padded with
    ``pad_index``; ``lengths`` (N,) true lengths (all ``L`` when omitted). Returns
    ``(N, num_classes)`` logits.
    """

    def __init__(self, config: SentimentConfig) -> None:
        super().__init__()
        if not isinstance(config, SentimentConfig):
            raise TypeError(f"config must be a SentimentConfig, got {type(config).__name__}.")
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim, padding_idx=c.pad_index)
        self.embedding.weight.requires_grad_(not c.freeze_embedding)
        self.embedding_dropout = nn.Dropout(c.embedding_dropout)
        if c.encoder == "rnncell":
            self.encoder = RNNCellEncoder(
                c.embedding_dim, c.hidden_size, c.num_layers, c.bidirectional, c.rnn_dropout
            )
        else:
            layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[c.encoder]
            self.encoder = layer(
                c.embedding_dim,
                c.hidden_size,
                num_layers=c.num_layers,
                batch_first=True,
                dropout=c.rnn_dropout if c.num_layers > 1 else 0.0,
                bidirectional=c.bidirectional,
            )
        features = c.hidden_size * (2 if c.bidirectional else 1)
        pooled = 2 * features if c.pooling == "max+mean" else features
        self.output_dropout = nn.Dropout(c.output_dropout)
        if c.head_hidden > 0:
            self.head = nn.Sequential(
                nn.Linear(pooled, c.head_hidden),
                nn.ReLU(),
                nn.Dropout(c.output_dropout),
                nn.Linear(c.head_hidden, c.num_classes),
            )
        else:
            self.head = nn.Linear(pooled, c.num_classes)

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """The parameters in layers from the input side: embedding, encoder layers, head.

        One group for the embedding, one per recurrent layer (both directions of a
        layer together) and one for the head (its linear layers). This is the order
        :class:`~seqlab.train.TrainConfig`'s ``lr_layer_decay`` and ``gradual_unfreeze``
        read. Every parameter is in exactly one group.
        """
        layers: list[list[nn.Parameter]] = [[] for _ in range(self.config.num_layers)]
        directions = 2 if self.config.bidirectional else 1
        for name, param in self.encoder.named_parameters():
            if isinstance(self.encoder, RNNCellEncoder):
                # cells.<k>.*: cell k is layer k // directions.
                layer = int(name.split(".")[1]) // directions
            else:
                found = _LAYER_SUFFIX.search(name)
                if found is None:  # not named per layer: the encoder is one group
                    return [
                        [self.embedding.weight],
                        list(self.encoder.parameters()),
                        list(self.head.parameters()),
                    ]
                layer = int(found.group(1))
            layers[layer].append(param)
        return [[self.embedding.weight], *layers, list(self.head.parameters())]

    def load_embedding(self, vectors: np.ndarray | Tensor) -> None:
        """Copy pretrained word vectors (``(vocab_size, embedding_dim)``) into the embedding."""
        vectors = embedding_vectors(vectors, self.embedding.weight)
        with torch.no_grad():
            self.embedding.weight.copy_(vectors)
            self.embedding.weight[self.config.pad_index].zero_()

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        if inputs.dim() != 2:
            raise ValueError(
                f"inputs must be (batch, length) token ids, got shape {tuple(inputs.shape)}."
            )
        batch, steps = inputs.shape
        if lengths is None:
            lengths = torch.full((batch,), steps, dtype=torch.long)
        lengths = torch.as_tensor(lengths, dtype=torch.long).clamp(min=1).cpu()
        x = self.embedding_dropout(self.embedding(inputs))  # (N, L, E)
        if isinstance(self.encoder, RNNCellEncoder):
            out, h_n = self.encoder(x, lengths)
        else:
            out, h_n = self.encoder(x, lengths=lengths)  # (N, L, D*H)
            if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
                h_n = h_n[0]
        pooled = self._pool(out, h_n, lengths.to(out.device))
        return self.head(self.output_dropout(pooled))  # (N, C)

    def _pool(self, out: Tensor, h_n: Tensor, lengths: Tensor) -> Tensor:
        pooling = self.config.pooling
        if pooling == "last":
            directions = 2 if self.config.bidirectional else 1
            return torch.cat(list(h_n[-directions:]), dim=1)  # (N, D*H)
        mask = torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]
        mask = mask.unsqueeze(2)  # (N, L, 1)
        parts = []
        if pooling in ("max", "max+mean"):
            parts.append(out.masked_fill(~mask, float("-inf")).amax(dim=1))
        if pooling in ("mean", "max+mean"):
            parts.append((out * mask).sum(dim=1) / lengths[:, None].to(out.dtype))
        return torch.cat(parts, dim=1)


register_model("sentiment_classifier", SentimentConfig, SentimentClassifier)
