"""Recurrent-layer throughput: seqlab.nn against torch.nn and a textbook cell, same run.

Batch 64, sequence length 256, input (embedding) size 128, hidden 128 and 256; LSTM, GRU
and RNN (tanh); one and two directions. For each configuration three implementations
are timed on the same data:

- ``seqlab``: ``seqlab.nn.LSTM/GRU/RNN`` (the fused path);
- ``torch``: ``torch.nn.LSTM/GRU/RNN``;
- ``textbook``: two ``nn.Linear`` (x2h, h2h) and a Python loop over the steps, as in
  the seed notes (run twice, once per direction, when bidirectional).

Training = forward, backward of a mean-square loss on the outputs, Adam step; inference
= forward under ``torch.no_grad()``. Rounds alternate the implementations so that
machine load hits them alike; the figure is the median tokens/s over the rounds after a
warm-up call, whose time (first call: allocation, lazy set-up, any compilation) is
reported apart. Ratios are seqlab/torch and seqlab/textbook within the same run.

A variable-length case (lengths drawn uniformly from [L/4, L]; LSTM and GRU, hidden 128,
the chosen directions) compares throughput per real token against the padded
full-length batch, for seqlab (``lengths=``) and torch (``pack_padded_sequence``).

    .venv/bin/python benchmarks/rnn_throughput.py            # everything (slow)
    .venv/bin/python benchmarks/rnn_throughput.py --quick    # hidden 128, LSTM+GRU, uni
    .venv/bin/python benchmarks/rnn_throughput.py --hidden 128 --modes LSTM GRU --threads 1
    .venv/bin/python benchmarks/rnn_throughput.py --sections variable --directions uni bi

Prints a table and writes ``benchmarks/results/rnn_throughput.json``. The default is
two torch threads; on a shared machine whose cores are oversubscribed, two OpenMP
threads per process mostly wait for each other (tiny ops ran ~30x slower here), so
``--threads 1`` gives steadier ratios. The load average is recorded in the JSON.

Clock (``--clock``): with one thread the default is the CPU time of the calling thread
(``time.thread_time``; all the work runs on it), which leaves out the time the process
waits for a core while other jobs run: at a load average of 2-2.5 on 2 cores, wall-time
ratios between two runs of the same code varied by 30%, CPU-time ratios by a few %.
With more threads the clock is wall time (worker threads' CPU time, including OpenMP
spin-waiting, would not measure speed).

The float32 numba kernels (every inference path and the GRU training forward; LSTM and
RNN training use none) are compiled on first use and cached on disk (``__pycache__`` or
``NUMBA_CACHE_DIR``); the first call column shows that cost when the cache is cold.
``benchmarks/cold_start.py`` measures first use in a fresh install.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import seqlab.nn as snn
from seqlab.io import write_json

BATCH, STEPS, EMBED = 64, 256, 128
RESULTS = Path(__file__).resolve().parent / "results" / "rnn_throughput.json"


class TextbookLayer(nn.Module):
    """The seed's hand-written layer: x2h and h2h linear maps, one Python step per token."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bidirectional: bool):
        super().__init__()
        gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode]
        self.mode, self.hidden_size = mode, hidden_size
        directions = 2 if bidirectional else 1
        self.x2h = nn.ModuleList(
            nn.Linear(input_size, gates * hidden_size) for _ in range(directions)
        )
        self.h2h = nn.ModuleList(
            nn.Linear(hidden_size, gates * hidden_size) for _ in range(directions)
        )

    def _step(self, direction: int, x: torch.Tensor, h, c):
        gx = self.x2h[direction](x)
        gh = self.h2h[direction](h)
        if self.mode == "LSTM":
            i, f, g, o = (gx + gh).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        if self.mode == "GRU":
            xr, xz, xn = gx.chunk(3, 1)
            hr, hz, hn = gh.chunk(3, 1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            return (1 - z) * n + z * h, c
        return torch.tanh(gx + gh), c

    def forward(self, x: torch.Tensor):
        outputs = []
        for direction in range(len(self.x2h)):
            h = x.new_zeros(x.shape[1], self.hidden_size)
            c = torch.zeros_like(h)
            steps = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
            per_step = [None] * x.shape[0]
            for t in steps:
                h, c = self._step(direction, x[t], h, c)
                per_step[t] = h
            outputs.append(torch.stack(per_step))
        return torch.cat(outputs, dim=2), None


def make_layer(impl: str, mode: str, hidden: int, bidirectional: bool) -> nn.Module:
    if impl == "textbook":
        return TextbookLayer(mode, EMBED, hidden, bidirectional)
    library = snn if impl == "seqlab" else nn
    return getattr(library, mode)(EMBED, hidden, bidirectional=bidirectional)


def make_step(layer: nn.Module, x: torch.Tensor, train: bool, forward: Callable) -> Callable:
    """One timed unit of work: a training step (fwd, bwd, Adam) or an inference call."""
    if not train:

        def infer() -> None:
            with torch.no_grad():
                forward(layer, x)

        return infer
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)

    def train_step() -> None:
        output = forward(layer, x)
        loss = output.pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return train_step


def plain_forward(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return layer(x)[0]


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def time_round_robin(
    steps: dict[str, Callable], rounds: int, clock: Callable[[], float]
) -> dict[str, dict[str, float]]:
    """First-call seconds and median seconds over ``rounds`` alternating calls."""
    first, times = {}, {name: [] for name in steps}
    for name, step in steps.items():
        start = clock()
        step()
        first[name] = clock() - start
    for _ in range(rounds):
        for name, step in steps.items():
            start = clock()
            step()
            times[name].append(clock() - start)
    return {
        name: {"first_call_s": first[name], "median_s": statistics.median(times[name])}
        for name in steps
    }


def bench_config(mode, hidden, bidirectional, train, impls, rounds, clock) -> dict:
    torch.manual_seed(0)
    x = torch.randn(STEPS, BATCH, EMBED)
    steps = {}
    for impl in impls:
        layer = make_layer(impl, mode, hidden, bidirectional)
        steps[impl] = make_step(layer, x, train, plain_forward)
    timings = time_round_robin(steps, rounds, clock)
    tokens = BATCH * STEPS
    row = {
        "mode": mode,
        "hidden": hidden,
        "bidirectional": bidirectional,
        "task": "train" if train else "infer",
    }
    for impl, timing in timings.items():
        row[impl] = {"tokens_per_s": tokens / timing["median_s"], **timing}
    seqlab_rate = row["seqlab"]["tokens_per_s"]
    for other in impls[1:]:
        row[f"seqlab_over_{other}"] = seqlab_rate / row[other]["tokens_per_s"]
    return row


def bench_variable_lengths(
    mode: str, hidden: int, bidirectional: bool, train: bool, rounds: int, clock: Callable
) -> dict:
    """Per-real-token throughput of a variable-length batch against the padded batch."""
    torch.manual_seed(0)
    x = torch.randn(STEPS, BATCH, EMBED)
    lengths = torch.randint(STEPS // 4, STEPS + 1, (BATCH,))
    lengths[0] = STEPS
    real_tokens = int(lengths.sum())

    def seqlab_lengths(layer, inputs):
        return layer(inputs, lengths=lengths)[0]

    def torch_packed(layer, inputs):
        packed = pack_padded_sequence(inputs, lengths, enforce_sorted=False)
        return layer(packed)[0].data

    layers = {
        "seqlab": getattr(snn, mode)(EMBED, hidden, bidirectional=bidirectional),
        "torch": getattr(nn, mode)(EMBED, hidden, bidirectional=bidirectional),
    }
    steps = {}
    for name, layer in layers.items():
        variable = seqlab_lengths if name == "seqlab" else torch_packed
        steps[f"{name}_padded"] = make_step(layer, x, train, plain_forward)
        steps[f"{name}_variable"] = make_step(layer, x, train, variable)
    timings = time_round_robin(steps, rounds, clock)
    row = {
        "mode": mode,
        "hidden": hidden,
        "bidirectional": bidirectional,
        "task": "train" if train else "infer",
        "real_tokens": real_tokens,
        "padded_tokens": BATCH * STEPS,
    }
    for name, timing in timings.items():
        tokens = real_tokens if name.endswith("variable") else BATCH * STEPS
        row[name] = {"real_tokens_per_s": tokens / timing["median_s"], **timing}
    for name in layers:
        row[f"{name}_variable_over_padded"] = (
            row[f"{name}_variable"]["real_tokens_per_s"]
            / row[f"{name}_padded"]["real_tokens_per_s"]
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="hidden 128, LSTM and GRU, one direction"
    )
    parser.add_argument("--rounds", type=int, default=None, help="timed calls per implementation")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-textbook", action="store_true", help="skip the (slow) textbook cell")
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden sizes (default 128 256)")
    parser.add_argument("--modes", nargs="+", choices=("LSTM", "GRU", "RNN"))
    parser.add_argument("--directions", nargs="+", choices=("uni", "bi"))
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=("matrix", "variable"),
        default=("matrix", "variable"),
        help="the fixed-length matrix, the variable-length comparison, or both",
    )
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        help="cpu: the calling thread's CPU time (default with --threads 1), wall: elapsed",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock_name = args.clock or ("cpu" if args.threads == 1 else "wall")
    if clock_name == "cpu" and args.threads != 1:
        parser.error("--clock cpu measures one thread; use it with --threads 1")
    clock = CLOCKS[clock_name]
    rounds = args.rounds or (3 if args.quick else 5)
    hiddens = tuple(args.hidden or ((128,) if args.quick else (128, 256)))
    modes = tuple(args.modes or (("LSTM", "GRU") if args.quick else ("LSTM", "GRU", "RNN")))
    directions = args.directions or (["uni"] if args.quick else ["uni", "bi"])
    directions = tuple(d == "bi" for d in directions)
    impls = ["seqlab", "torch"] + ([] if args.no_textbook else ["textbook"])

    load_before = os.getloadavg()
    started = time.perf_counter()
    rows = []
    header = f"{'layer':<16}{'task':<7}" + "".join(f"{impl + ' tok/s':>16}" for impl in impls)
    header += (
        "".join(f"{'vs ' + other:>13}" for other in impls[1:])
        + f"{'1st call s (seqlab/torch)':>28}"
    )
    if "matrix" in args.sections:
        print(header)
    for hidden in hiddens if "matrix" in args.sections else ():
        for mode in modes:
            for bidirectional in directions:
                for train in (True, False):
                    row = bench_config(mode, hidden, bidirectional, train, impls, rounds, clock)
                    rows.append(row)
                    name = f"{mode}-{hidden}{'-bi' if bidirectional else ''}"
                    line = f"{name:<16}{row['task']:<7}"
                    line += "".join(f"{row[impl]['tokens_per_s']:>16,.0f}" for impl in impls)
                    line += "".join(f"{row['seqlab_over_' + other]:>12.2f}x" for other in impls[1:])
                    first = row["seqlab"]["first_call_s"], row["torch"]["first_call_s"]
                    line += f"{first[0]:>19.2f} / {first[1]:.2f}"
                    print(line, flush=True)

    if "variable" in args.sections:
        print("\nVariable lengths (uniform in [L/4, L]): real tokens/s, variable vs padded")
    variable_rows = []
    for mode in [m for m in modes if m != "RNN" and "variable" in args.sections]:
        for bidirectional in directions:
            for train in (True, False):
                row = bench_variable_lengths(mode, 128, bidirectional, train, rounds, clock)
                variable_rows.append(row)
                name = f"{mode}-128{'-bi' if bidirectional else ''}"
                print(
                    f"{name:<16}{row['task']:<7}"
                    f"seqlab padded {row['seqlab_padded']['real_tokens_per_s']:>10,.0f}  "
                    f"lengths= {row['seqlab_variable']['real_tokens_per_s']:>10,.0f} "
                    f"({row['seqlab_variable_over_padded']:.2f}x)   "
                    f"torch padded {row['torch_padded']['real_tokens_per_s']:>10,.0f}  "
                    f"packed {row['torch_variable']['real_tokens_per_s']:>10,.0f} "
                    f"({row['torch_variable_over_padded']:.2f}x)",
                    flush=True,
                )
    result = {
        "benchmark": "rnn_throughput",
        "batch": BATCH,
        "steps": STEPS,
        "embedding": EMBED,
        "threads": args.threads,
        "clock": clock_name,
        "rounds": rounds,
        "quick": args.quick,
        "hidden_sizes": hiddens,
        "modes": modes,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "variable_lengths": variable_rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    after = result["load_average_after"]
    print(f"\nclock: {clock_name}; load average before/after: {load_before} / {after}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
