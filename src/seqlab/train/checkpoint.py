"""Checkpoint files, written atomically and read without unpickling.

Weights go to safetensors. The trainer state (optimizer, scheduler, RNG states, epoch,
history) goes through ``torch.save`` and comes back with ``torch.load(weights_only=True)``,
which only rebuilds tensors and plain containers, so a tampered file cannot run code.
Because of that, everything put in the state is tensors, numbers, strings, None and
lists/dicts of them: the numpy and ``random`` RNG states are converted to tensors here.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.torch
import torch

from seqlab.io import atomic_write

__all__ = [
    "capture_rng",
    "load_model_weights",
    "load_state",
    "load_weights",
    "read_weights_metadata",
    "restore_rng",
    "save_state",
    "save_weights",
]


def save_weights(
    path: str | os.PathLike,
    state_dict: Mapping[str, torch.Tensor],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a state dict (and string ``metadata``) as safetensors, atomically.

    Tensors are copied to contiguous CPU memory first, which also unties shared
    (tied) weights, which safetensors refuses to store twice.
    """
    tensors = {name: t.detach().to("cpu", copy=True).contiguous() for name, t in state_dict.items()}
    data = safetensors.torch.save(tensors, metadata=dict(metadata) if metadata else None)
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def load_weights(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Read a safetensors file into a state dict on ``device``; clear error if unreadable."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such weights file.")
    try:
        return safetensors.torch.load_file(str(path), device=str(device))
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors file ({_first_line(exc)}).") from None


_FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
_INT_DTYPES = {"I8", "I16", "I32", "I64", "U8", "BOOL"}


def load_model_weights(
    model: torch.nn.Module, path: str | os.PathLike, device: str | torch.device = "cpu"
) -> None:
    """Load the safetensors file ``path`` into ``model``, checked before any tensor is read.

    The file's header must list exactly the model's parameter and buffer names, each with
    the model's shape and a dtype of the same kind (floating or integer); otherwise a
    ValueError names the file and the first differences. Only then are the tensors read.
    A missing, truncated or non-safetensors file is a ValueError naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such weights file; the run folder is incomplete.")
    try:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            header = {
                name: (
                    tuple(handle.get_slice(name).get_shape()),
                    handle.get_slice(name).get_dtype(),
                )
                for name in handle.keys()
            }
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors file ({_first_line(exc)}).") from None
    own = model.state_dict()
    missing = sorted(set(own) - set(header))
    unexpected = sorted(set(header) - set(own))
    wrong = sorted(k for k in set(own) & set(header) if tuple(own[k].shape) != header[k][0])
    kinds = sorted(
        k
        for k in set(own) & set(header)
        if header[k][1] not in (_FLOAT_DTYPES if own[k].is_floating_point() else _INT_DTYPES)
    )
    if missing or unexpected or wrong or kinds:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}")
        if wrong:
            parts.append(
                "shape mismatch "
                + ", ".join(f"{k} {header[k][0]} vs {tuple(own[k].shape)}" for k in wrong[:5])
            )
        if kinds:
            parts.append("wrong dtype " + ", ".join(f"{k} {header[k][1]}" for k in kinds[:5]))
        raise ValueError(f"{path} does not fit {type(model).__name__}: {'; '.join(parts)}.")
    model.load_state_dict(load_weights(path, device=device))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().partition("\n")[0] or type(exc).__name__).strip()


def read_weights_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata stored in a safetensors file's header."""
    try:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors file ({_first_line(exc)}).") from None


def save_state(path: str | os.PathLike, state: Mapping[str, Any]) -> None:
    """``torch.save`` ``state`` to ``path`` atomically (readable with weights_only=True)."""
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a state written by :func:`save_state`, never unpickling arbitrary objects."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such trainer state file.") from None
    except Exception as exc:
        reason = f"{type(exc).__name__}: {_first_line(exc)}; the file is damaged"
        if "Weights only load failed" in reason:
            # torch's own text suggests weights_only=False, which is what must not be done.
            reason = "it holds objects other than tensors and plain values; refused, since "
            reason += "loading them could run code"
        raise ValueError(f"{path}: not a readable trainer state ({reason}).") from None


def capture_rng() -> dict[str, Any]:
    """The torch (CPU and CUDA), numpy and ``random`` RNG states as tensors and ints."""
    # The legacy global numpy RNG is saved because user code (e.g. augmentation) may draw
    # from it; seqlab itself uses explicit Generators.
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "numpy_pos": int(pos),
        "numpy_has_gauss": int(has_gauss),
        "numpy_cached": float(cached),
        "numpy_kind": str(kind),
        "python_version": int(version),
        "python_internal": torch.tensor(internal, dtype=torch.int64),
        "python_gauss_next": gauss_next,
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Mapping[str, Any]) -> None:
    """Put back the RNG states captured by :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(  # noqa: NPY002
        (
            state["numpy_kind"],
            state["numpy_keys"].numpy().astype(np.uint32),
            state["numpy_pos"],
            state["numpy_has_gauss"],
            state["numpy_cached"],
        )
    )
    random.setstate(
        (
            state["python_version"],
            tuple(int(v) for v in state["python_internal"].tolist()),
            state["python_gauss_next"],
        )
    )
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
