"""seqlab.models: task models built from ``seqlab.nn``, registered by name.

``build_model(config_dict)`` is the one place a model is built from its configuration.
"""

import seqlab

seqlab._require("seqlab.models", "torch")

from seqlab.models.registry import (
    ModelConfig,
    build_model,
    model_config_dict,
    register_model,
    registered_models,
)

# isort: split
# Task models register themselves when imported, and import the registry above.
from seqlab.models import forms  # noqa: F401  (registers the four recurrent forms)
from seqlab.models.classifier import SentimentClassifier, SentimentConfig
from seqlab.models.forecaster import (
    RecurrentForecasterConfig,
    RecurrentForecastNet,
    Seq2SeqForecastNet,
)
from seqlab.models.language import LanguageModel, LanguageModelConfig

__all__ = [
    "LanguageModel",
    "LanguageModelConfig",
    "ModelConfig",
    "RecurrentForecastNet",
    "RecurrentForecasterConfig",
    "SentimentClassifier",
    "SentimentConfig",
    "Seq2SeqForecastNet",
    "build_model",
    "model_config_dict",
    "register_model",
    "registered_models",
]
