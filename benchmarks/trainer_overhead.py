"""What the Trainer costs on top of a plain PyTorch loop.

Trains the same GRU sentence classifier (embedding, 1-layer GRU, max-pool, linear) on
synthetic token batches twice per round: once with a hand-written loop (Adam, gradient
clipping, per-sample loss sum) and with ``seqlab.train.Trainer`` doing the same steps
plus its bookkeeping (metric totals, token counts, RNG capture; progress bar off), once
in memory and once writing a run folder (checkpoints, history, the curves PNG, a fixed
cost of about a second per fit, mostly matplotlib). Rounds alternate the loops so
machine load hits them alike; the table reports the median seconds of one epoch (one
fit) and the ratio to the plain loop. The Trainer's weights must equal the plain loop's
(same seed), which the script checks, so the loops do the same work.

    .venv/bin/python benchmarks/trainer_overhead.py [--rounds 3] [--batches 40] [--threads 1]

Writes ``benchmarks/results/trainer_overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.train import ClassificationTask, TrainConfig, Trainer, seed_everything


class GRUClassifier(nn.Module):
    def __init__(self, vocab: int = 5000, dim: int = 64, hidden: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.gru = nn.GRU(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.gru(self.embedding(inputs))  # (N, L, H)
        return self.head(out.max(dim=1).values)


def make_batches(n_batches: int, batch: int, length: int) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n_batches):
        ids = torch.randint(1, 5000, (batch, length), generator=g)
        out.append(
            {
                "inputs": ids,
                "targets": (ids[:, 0] % 2).long(),
                "lengths": torch.full((batch,), length),
            }
        )
    return out


def plain_epoch(batches: list[dict]) -> tuple[float, dict]:
    seed_everything(0)
    model = GRUClassifier()
    seed_everything(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    started = time.perf_counter()
    loss_sum, count = 0.0, 0
    for batch in batches:
        loss = F.cross_entropy(model(batch["inputs"]), batch["targets"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss_sum += loss.item() * len(batch["targets"])
        count += len(batch["targets"])
    return time.perf_counter() - started, model.state_dict()


def trainer_epoch(batches: list[dict], run_dir: Path | None) -> tuple[float, dict]:
    seed_everything(0)
    model = GRUClassifier()
    config = TrainConfig(epochs=1, lr=1e-3, grad_clip=1.0, seed=0, progress=False)
    trainer = Trainer(model, task=ClassificationTask(), config=config, run_dir=run_dir)
    started = time.perf_counter()
    trainer.fit(batches)
    return time.perf_counter() - started, model.state_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batches = make_batches(args.batches, args.batch_size, args.length)

    # Warm-up: first-use costs (torch's lazy imports on the first optimizer) are not
    # the Trainer's per-epoch cost.
    with tempfile.TemporaryDirectory() as tmp:
        trainer_epoch(batches[:2], Path(tmp))
    plain_times, memory_times, folder_times = [], [], []
    for _ in range(args.rounds):
        seconds, plain_weights = plain_epoch(batches)
        plain_times.append(seconds)
        seconds, memory_weights = trainer_epoch(batches, None)
        memory_times.append(seconds)
        with tempfile.TemporaryDirectory() as tmp:
            seconds, folder_weights = trainer_epoch(batches, Path(tmp))
        folder_times.append(seconds)
        for key, value in plain_weights.items():
            if not (
                torch.equal(value, memory_weights[key]) and torch.equal(value, folder_weights[key])
            ):
                raise SystemExit(f"weights differ at {key}: the loops did different work")

    tokens = args.batches * args.batch_size * args.length
    plain = statistics.median(plain_times)
    memory, folder = statistics.median(memory_times), statistics.median(folder_times)
    rows = [
        ("plain loop", plain, tokens / plain, 1.0),
        ("Trainer (in memory)", memory, tokens / memory, memory / plain),
        ("Trainer (run folder)", folder, tokens / folder, folder / plain),
    ]
    print(f"{'loop':<22}{'s/epoch':>10}{'tokens/s':>12}{'ratio':>8}")
    for name, seconds, rate, ratio in rows:
        print(f"{name:<22}{seconds:>10.3f}{rate:>12,.0f}{ratio:>8.3f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"load average {load}, {args.threads} torch thread(s), {args.rounds} rounds")
    out = Path(__file__).parent / "results" / "trainer_overhead.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "args": vars(args),
                "plain_seconds": plain_times,
                "trainer_in_memory_seconds": memory_times,
                "trainer_run_folder_seconds": folder_times,
                "ratio_in_memory": memory / plain,
                "ratio_run_folder": folder / plain,
                "tokens_per_epoch": tokens,
                "load_average": load,
                "platform": platform.platform(),
                "torch": torch.__version__,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
