"""seqlab.train: the one Trainer for every neural task.

``Trainer(model, task, config, run_dir).fit(train_batches, valid_batches)`` trains with
per-sample averaged figures, validation, early stopping, checkpoints and exact resume,
and runs under ``torchrun`` (DDP) unchanged. ``load_run(run_dir)`` rebuilds a model.
"""

from seqlab.train.distributed import DistributedBatches
from seqlab.train.tasks import ClassificationTask, RegressionTask, Task
from seqlab.train.trainer import FORMAT_VERSION, TrainConfig, Trainer, load_run, seed_everything

__all__ = [
    "FORMAT_VERSION",
    "ClassificationTask",
    "DistributedBatches",
    "RegressionTask",
    "Task",
    "TrainConfig",
    "Trainer",
    "load_run",
    "seed_everything",
]
