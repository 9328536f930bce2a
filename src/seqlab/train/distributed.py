"""Running the Trainer under ``torch.distributed`` (DDP), as launched by ``torchrun``.

``torchrun --nproc_per_node N script.py`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` in each worker. :func:`setup` reads them, starts the
process group (NCCL on CUDA, gloo on CPU) and says which device this rank uses. Batches
are sharded per rank by :class:`DistributedBatches`: every rank walks the same batch
sequence (same ``set_epoch``, so the same shuffle) and keeps every ``world_size``-th
batch starting at its rank. The global batch is therefore ``world_size`` local batches,
and DDP's gradient average over ranks equals the gradient of the mean loss over that
global batch when the local batches are the same size.
"""

from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["DistContext", "DistributedBatches", "is_sharded", "setup"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, the world size and its local rank."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_reduce_sum(self, values: list[float], device: torch.device) -> list[float]:
        """Sum a list of numbers over ranks (identity in a single process)."""
        if not self.enabled:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any rank."""
        if not self.enabled:
            return flag
        tensor = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return bool(tensor.item() > 0)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be an integer.") from None


def setup(use_cuda: bool) -> DistContext:
    """Join (or find) the process group described by the torchrun environment.

    Without ``WORLD_SIZE`` > 1 and without an initialised process group this is a
    single process. A process group the caller already started is used as it is.
    """
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = _env_int("LOCAL_RANK")
        return DistContext(rank, world, rank if local is None else local)
    world = _env_int("WORLD_SIZE") or 1
    if world <= 1:
        return DistContext()
    rank = _env_int("RANK")
    if rank is None:
        raise ValueError("WORLD_SIZE is set but RANK is not; launch with torchrun.")
    local = _env_int("LOCAL_RANK")
    local = rank if local is None else local
    if not dist.is_available():
        raise ValueError("WORLD_SIZE > 1 but this torch build has no torch.distributed.")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local)
    dist.init_process_group(backend=backend, rank=rank, world_size=world)
    atexit.register(_destroy)
    logger.info("torch.distributed: rank %d of %d (%s)", rank, world, backend)
    return DistContext(rank, world, local)


def _destroy() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class DistributedBatches:
    """This rank's share of a re-iterable batch source.

    Batch ``i`` of each pass goes to rank ``i % world_size``. With ``drop_last=True``
    (training) the pass is cut to a multiple of ``world_size`` so every rank takes the
    same number of steps, which DDP needs; with ``drop_last=False`` (evaluation) every
    batch is used once by exactly one rank. ``set_epoch`` is passed on to the source.
    """

    sharded = True

    def __init__(
        self,
        batches: Iterable[Any],
        rank: int | None = None,
        world_size: int | None = None,
        drop_last: bool = True,
    ) -> None:
        if rank is None or world_size is None:
            ready = dist.is_available() and dist.is_initialized()
            rank = (dist.get_rank() if ready else 0) if rank is None else rank
            world_size = (
                (dist.get_world_size() if ready else 1) if world_size is None else world_size
            )
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(
                f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}."
            )
        self.batches = batches
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last

    def set_epoch(self, epoch: int) -> None:
        set_epoch(self.batches, epoch)

    def __len__(self) -> int:
        total = len(self.batches)  # type: ignore[arg-type]
        if self.drop_last:
            return total // self.world_size
        return len(range(self.rank, total, self.world_size))

    def __iter__(self) -> Iterator[Any]:
        if not self.drop_last:
            for i, batch in enumerate(self.batches):
                if i % self.world_size == self.rank:
                    yield batch
            return
        # Hold a group of world_size batches before yielding ours, so that an incomplete
        # final group (which some ranks could not match) is dropped on every rank.
        group: list[Any] = []
        for batch in self.batches:
            group.append(batch)
            if len(group) == self.world_size:
                yield group[self.rank]
                group = []


def set_epoch(batches: Any, epoch: int) -> None:
    """Call ``set_epoch`` on a batch source, or on a DataLoader's sampler/batch sampler."""
    for target in (
        batches,
        getattr(batches, "sampler", None),
        getattr(batches, "batch_sampler", None),
    ):
        method = getattr(target, "set_epoch", None)
        if callable(method):
            method(epoch)
            return


def is_sharded(batches: Any) -> bool:
    """Whether a batch source already gives each rank its own share."""
    if getattr(batches, "sharded", False):
        return True
    from torch.utils.data.distributed import DistributedSampler

    for attr in ("sampler", "batch_sampler"):
        inner = getattr(batches, attr, None)
        if isinstance(inner, DistributedSampler) or getattr(inner, "sharded", False):
            return True
        if isinstance(getattr(inner, "sampler", None), DistributedSampler):
            return True
    return False
