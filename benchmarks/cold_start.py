"""First use of seqlab in a fresh install: install time and the first calls, cold.

What a new user waits for, measured the way they would meet it. In a temporary folder
the script makes a fresh virtual environment, installs the CPU build of torch
(``pip install torch==2.13.0``, from the local wheel cache) and then this checkout (its
working tree as it is, copied, so nothing is written into the repository) the way the
Makefile does (``pip install -e .``; ``--no-editable``: ``pip install .``), and times,
each in a new Python process with every cache it knows of cleared first (``__pycache__``
folders and numba's ``*.nbi``/``*.nbc`` files under the installed package, and an empty
``NUMBA_CACHE_DIR`` of its own):

- ``import seqlab``;
- the first ``ARIMA(order=(1, 1, 1)).fit(y)`` on the bundled airline series (log);
- the first ``auto_arima(y, m=12)`` on the same series;
- the first ``seqlab.nn.LSTM`` forward and backward, float32, batch 64, length 256,
  input and hidden size 128 (``benchmarks/rnn_throughput.py``'s sizes).

Imports count in each figure (the whole process is timed, interpreter start included;
the process also reports its import and work time apart). Each step then runs once more
with the caches its cold run left ("warm"), which is what every later process pays.
With ``--demo`` it also clones the repository (its committed ``HEAD``) into the temporary
folder and times ``make demo`` there, set-up included.

Targets (issue 13, on this machine): seqlab install <= 120 s (torch's install is
reported apart), ARIMA fit <= 10 s, auto_arima <= 15 s, LSTM <= 5 s, make demo <= 120 s.
The machine is shared, so the load average (``os.getloadavg()``) is printed with every
figure and recorded in the JSON.

    .venv/bin/python benchmarks/cold_start.py
    .venv/bin/python benchmarks/cold_start.py --demo
    .venv/bin/python benchmarks/cold_start.py --threads 1 --no-editable --skip lstm

``--threads N`` sets ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` for the timed processes
(left unset by default, as a user has them). On a machine whose cores are already
busy, torch's OpenMP threads mostly wait for each other, which slows the LSTM probe by
far more than anything it compiles; the warm column shows when that is the case.

Prints a table and writes ``benchmarks/results/cold_start.json``. The temporary folder
is removed at the end, also after an error or Ctrl-C (the processes it started are
stopped first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "cold_start.json"
TORCH = "torch==2.13.0"
STEP_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Probe:
    """A first-use measurement: ``imports`` then ``work``, in a new process."""

    name: str
    label: str
    target_s: float | None
    imports: str
    work: str


PROBES = (
    Probe("import_seqlab", "import seqlab", None, "import seqlab", "pass"),
    Probe(
        "arima_fit",
        "first ARIMA(1,1,1).fit (airline, log)",
        10.0,
        """
        import numpy as np
        from seqlab.datasets import airline
        from seqlab.ts import ARIMA
        """,
        "ARIMA(order=(1, 1, 1)).fit(np.log(airline()))",
    ),
    Probe(
        "auto_arima",
        "first auto_arima(y, m=12) (airline, log)",
        15.0,
        """
        import numpy as np
        from seqlab.datasets import airline
        from seqlab.ts import auto_arima
        """,
        "auto_arima(np.log(airline()), m=12)",
    ),
    Probe(
        "lstm",
        "first nn.LSTM fwd+bwd (f32, 64x256, 128->128)",
        5.0,
        """
        import torch
        import seqlab.nn as snn
        """,
        """
        layer = snn.LSTM(128, 128, batch_first=True)
        x = torch.randn(64, 256, 128)
        out, _ = layer(x)
        out.square().mean().backward()
        """,
    ),
)

_CHILD = """
import json, time
_start = time.perf_counter()
{imports}
_imported = time.perf_counter()
{work}
_done = time.perf_counter()
_split = {{"import_s": _imported - _start, "work_s": _done - _imported}}
print("COLD_START_JSON " + json.dumps(_split))
"""


class StepFailed(RuntimeError):
    """A timed command failed or ran past its time limit."""


def run(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> float:
    """Run ``command`` to completion in its own process group; its seconds (wall).

    Output goes to ``log``. On any interruption (Ctrl-C, SIGTERM, an error here) the
    whole process group is killed before the exception propagates, so nothing it started
    keeps writing into the temporary folder.
    """
    started = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = process.wait(timeout=STEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise StepFailed(f"ran past {STEP_TIMEOUT_S} s: {' '.join(command)}") from None
        except BaseException:
            _kill_group(process)
            raise
    seconds = time.perf_counter() - started
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise StepFailed(f"exit status {code}: {' '.join(command)}\n" + "\n".join(tail))
    return seconds


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def copy_checkout(destination: Path) -> None:
    """Copy the working tree's files (tracked and untracked, not ignored) to ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():  # tracked files deleted in the working tree are skipped
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def clear_caches(roots: list[Path], numba_cache: Path) -> int:
    """Remove ``__pycache__`` folders and numba cache files under ``roots`` and empty
    ``numba_cache``; returns how many paths were removed."""
    removed = 0
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_dir() and path.name == "__pycache__":
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
            elif path.suffix in (".nbi", ".nbc") and path.exists():
                path.unlink()
                removed += 1
    if numba_cache.exists():
        removed += sum(1 for _ in numba_cache.rglob("*"))
        shutil.rmtree(numba_cache)
    numba_cache.mkdir()
    return removed


def probe(python: Path, item: Probe, env: dict[str, str], cwd: Path, log: Path) -> dict:
    """Time one probe in a new process: wall seconds, and the child's import/work split."""
    code = _CHILD.format(
        imports=textwrap.dedent(item.imports).strip(), work=textwrap.dedent(item.work).strip()
    )
    script = cwd / f"probe_{item.name}.py"
    script.write_text(code)
    size = log.stat().st_size if log.exists() else 0
    seconds = run([str(python), str(script)], env, cwd, log)
    with open(log, "rb") as handle:
        handle.seek(size)
        output = handle.read().decode(errors="replace")
    split = next(
        json.loads(line.split(" ", 1)[1])
        for line in output.splitlines()
        if line.startswith("COLD_START_JSON ")
    )
    return {"seconds": seconds, **split}


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--demo", action="store_true", help="also time `make demo` from a fresh git clone"
    )
    parser.add_argument(
        "--no-editable",
        action="store_true",
        help="install with `pip install .` instead of `pip install -e .`",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=(),
        choices=[p.name for p in PROBES],
        help="leave out these first-use probes",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="OMP_NUM_THREADS/MKL_NUM_THREADS for the timed processes (default: unset, as a "
        "user has it; on an oversubscribed machine torch's threads mostly wait for each other)",
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    # SIGTERM unwinds like Ctrl-C, so the temporary folder is removed either way.
    signal.signal(signal.SIGTERM, _interrupt)
    load_before = os.getloadavg()
    started = time.perf_counter()
    temp = Path(tempfile.mkdtemp(prefix="seqlab-cold-start-"))
    rows: list[dict] = []
    try:
        rows = measure(args, temp)
    except KeyboardInterrupt:
        print("\ninterrupted; removing", temp, file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)

    result = {
        "benchmark": "cold_start",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "checkout": _checkout(),
        "install": "pip install ." if args.no_editable else "pip install -e .",
        "torch": TORCH,
        "threads": args.threads,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds": time.perf_counter() - started,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nload average before/after: {load_before} / {result['load_average_after']}")
    print(f"wrote {args.out}")
    if any(row["status"] != "ok" for row in rows):
        raise SystemExit(1)


def _checkout() -> dict:
    def git(*command: str) -> str:
        return subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "uncommitted_changes": bool(git("status", "-s"))}


def measure(args: argparse.Namespace, temp: Path) -> list[dict]:
    venv, source, work = temp / "venv", temp / "seqlab", temp / "work"
    numba_cache, log = temp / "numba-cache", temp / "log.txt"
    work.mkdir()
    numba_cache.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NUMBA_CACHE_DIR"] = str(numba_cache)
    python = venv / "bin" / "python"
    probe_env = dict(env)
    if args.threads is not None:
        probe_env["OMP_NUM_THREADS"] = probe_env["MKL_NUM_THREADS"] = str(args.threads)
    rows: list[dict] = []
    header = f"{'step':<48}{'seconds':>9}{'target':>9}{'ok':>5}{'warm s':>9}{'load':>7}  note"
    print(header)

    def record(name, label, target, seconds=None, status="ok", warm=None, note="", **extra):
        met = None if target is None or seconds is None else seconds <= target
        row = {
            "step": name,
            "label": label,
            "seconds": seconds,
            "target_s": target,
            "met": met,
            "warm_seconds": warm,
            "load_1min": _load(),
            "status": status,
            "note": note,
            **extra,
        }
        rows.append(row)
        shown = "-" if seconds is None else f"{seconds:.1f}"
        target_text = "" if target is None else f"<= {target:.0f}"
        ok = "" if met is None else ("yes" if met else "NO")
        warm_text = "" if warm is None else f"{warm:.1f}"
        print(
            f"{label:<48}{shown:>9}{target_text:>9}{ok:>5}{warm_text:>9}{row['load_1min']:>7}  "
            f"{note}",
            flush=True,
        )

    copy_checkout(source)
    try:
        seconds = run([args.python, "-m", "venv", str(venv)], env, temp, log)
        seconds += run(
            [str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], env, temp, log
        )
        record("venv", "python -m venv + pip upgrade", None, seconds)
        seconds = run([str(python), "-m", "pip", "install", "-q", TORCH], env, temp, log)
        record("install_torch", f"pip install {TORCH}", None, seconds)
        target = [str(source)] if args.no_editable else ["-e", str(source)]
        seconds = run([str(python), "-m", "pip", "install", "-q", *target], env, temp, log)
        record(
            "install_seqlab",
            "pip install " + ("." if args.no_editable else "-e .") + " (torch present)",
            120.0,
            seconds,
            note="dependencies included",
        )
    except StepFailed as error:
        record("install", "install", None, status="failed", note=str(error).splitlines()[0])
        print(error, file=sys.stderr)
        return rows

    cache_roots = [source, *venv.glob("lib/python*/site-packages/seqlab")]
    for item in PROBES:
        if item.name in args.skip:
            continue
        cleared = clear_caches(cache_roots, numba_cache)
        try:
            cold = probe(python, item, probe_env, work, log)
            warm = probe(python, item, probe_env, work, log)
        except StepFailed as error:
            record(item.name, item.label, item.target_s, status="failed", note=str(error)[:200])
            print(error, file=sys.stderr)
            continue
        record(
            item.name,
            item.label,
            item.target_s,
            cold["seconds"],
            warm=warm["seconds"],
            note=f"import {cold['import_s']:.1f} s + work {cold['work_s']:.1f} s",
            cold_split=cold,
            warm_split=warm,
            caches_cleared=cleared,
        )

    if args.demo:
        clone = temp / "clone"
        demo_env = dict(env)
        demo_env["NUMBA_CACHE_DIR"] = str(temp / "numba-cache-demo")
        try:
            cloned = run(["git", "clone", "-q", str(ROOT), str(clone)], env, temp, log)
            try:  # the Makefile's set-up target alone, to report it apart
                setup = run(["make", ".venv/bin/.installed"], demo_env, clone, log)
            except StepFailed:
                setup = 0.0  # no such target: `make demo` below does the set-up
            demo = run(["make", "demo"], demo_env, clone, log)
            record(
                "make_demo",
                "git clone + make demo (set-up included)",
                120.0,
                cloned + setup + demo,
                note=f"clone {cloned:.0f} s, set-up {setup:.0f} s, demo {demo:.0f} s; committed "
                "HEAD; SEQLAB_DATA " + ("set" if "SEQLAB_DATA" in env else "unset"),
                clone_s=cloned,
                setup_s=setup,
                demo_s=demo,
            )
        except StepFailed as error:
            record("make_demo", "make demo", 120.0, status="failed", note=str(error)[:200])
            print(error, file=sys.stderr)
    return rows


if __name__ == "__main__":
    main()
