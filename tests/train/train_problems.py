"""Small real problems for the Trainer tests: a tiny GRU classifier and an MLP regressor.

The classification task is "does token 3 occur in the (unpadded) sequence?": learnable
by a GRU with max-pooling in a few epochs, and it needs ``lengths`` to ignore padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqlab.models import register_model

MARKER = 3
VOCAB = 12


@dataclass
class TinyGRUConfig:
    vocab_size: int = VOCAB
    embedding_dim: int = 8
    hidden_size: int = 16
    dropout: float = 0.1


class TinyGRU(nn.Module):
    def __init__(self, config: TinyGRUConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
        self.dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(config.embedding_dim, config.hidden_size, batch_first=True)
        self.head = nn.Linear(config.hidden_size, 2)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.gru(self.dropout(self.embedding(inputs)))  # (N, L, H)
        if lengths is not None:
            steps = torch.arange(inputs.shape[1], device=inputs.device)
            pad = steps[None, :] >= lengths[:, None]  # (N, L)
            out = out.masked_fill(pad[..., None], float("-inf"))
        return self.head(out.max(dim=1).values)


@dataclass
class MLPConfig:
    in_features: int = 4
    hidden: int = 16
    out_features: int = 1


class MLP(nn.Module):
    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(config.in_features, config.hidden),
            nn.Tanh(),
            nn.Linear(config.hidden, config.out_features),
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)


register_model("test_tiny_gru", TinyGRUConfig, TinyGRU)
register_model("test_mlp", MLPConfig, MLP)


def marker_data(n: int, seed: int, max_len: int = 12) -> tuple[torch.Tensor, ...]:
    """Padded token ids (n, max_len), lengths (n,), labels (n,): 1 iff MARKER occurs."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(4, max_len + 1, (n,), generator=g)
    ids = torch.randint(MARKER + 1, VOCAB, (n, max_len), generator=g)
    labels = torch.randint(0, 2, (n,), generator=g)
    where = (torch.rand(n, generator=g) * lengths).long()
    ids[labels == 1, where[labels == 1]] = MARKER
    ids[torch.arange(max_len)[None, :] >= lengths[:, None]] = 0
    return ids, lengths, labels


def as_batches(
    ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, size: int
) -> list[dict]:
    return [
        {
            "inputs": ids[i : i + size],
            "lengths": lengths[i : i + size],
            "targets": labels[i : i + size],
        }
        for i in range(0, len(labels), size)
    ]


def regression_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """y = sin(x0) + 0.5 x1 - x2 x3 + small noise, x ~ N(0, 1)^4."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] - x[:, 2] * x[:, 3] + 0.05 * torch.randn(n, generator=g)
    return x, y[:, None]


def regression_batches(size: int = 16) -> tuple[list[dict], list[dict]]:
    """(train, valid) batches of the regression problem: 20 train and 6 valid batches."""
    x, y = regression_data(416, seed=0)
    batches = [{"inputs": x[i : i + size], "targets": y[i : i + size]} for i in range(0, 416, size)]
    return batches[:20], batches[20:]


class PairShuffled:
    """Batches in pairs (2p, 2p+1), the pairs shuffled per epoch by ``set_epoch``.

    With ``merge=True`` each pair is one concatenated batch: the single-process
    equivalent of two ranks each taking one batch of every pair.
    """

    def __init__(self, batches: list[dict], merge: bool = False) -> None:
        self.batches = batches
        self.merge = merge
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.batches) // 2 if self.merge else len(self.batches)

    def __iter__(self):
        g = torch.Generator().manual_seed(1000 + self.epoch)
        for p in torch.randperm(len(self.batches) // 2, generator=g).tolist():
            a, b = self.batches[2 * p], self.batches[2 * p + 1]
            if self.merge:
                yield {k: torch.cat([a[k], b[k]]) for k in a}
            else:
                yield a
                yield b
