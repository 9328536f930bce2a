"""seqlab.train: the one Trainer for every neural task.

``Trainer(model, task, config, run_dir).fit(train_batches, valid_batches)`` trains with
per-sample averaged figures, validation, early stopping, checkpoints and exact resume,
and runs under ``torchrun`` (DDP) unchanged. ``load_run(run_dir)`` rebuilds a model.
``Trainer(..., callbacks=[...])`` takes :class:`Callback` objects, such as the
``TensorBoardLogger`` and ``MLflowLogger`` of :mod:`seqlab.train.callbacks` (optional
extras ``seqlab[tensorboard]``, ``seqlab[mlflow]``, imported only when a logger is built).
"""

import seqlab

seqlab._require("seqlab.train", "torch", "safetensors")

from seqlab.train.callbacks import (
    Callback,
    FitStart,
    MLflowLogger,
    TensorBoardLogger,
    TrainEvent,
)
from seqlab.train.distributed import DistributedBatches
from seqlab.train.tasks import ClassificationTask, RegressionTask, Task
from seqlab.train.trainer import FORMAT_VERSION, TrainConfig, Trainer, load_run, seed_everything

__all__ = [
    "FORMAT_VERSION",
    "Callback",
    "ClassificationTask",
    "DistributedBatches",
    "FitStart",
    "MLflowLogger",
    "RegressionTask",
    "Task",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainEvent",
    "Trainer",
    "load_run",
    "seed_everything",
]
