"""seqlab.models: task models built from ``seqlab.nn``, registered by name.

``build_model(config_dict)`` is the one place a model is built from its configuration.
"""

from seqlab.models.registry import (
    ModelConfig,
    build_model,
    model_config_dict,
    register_model,
    registered_models,
)

__all__ = [
    "ModelConfig",
    "build_model",
    "model_config_dict",
    "register_model",
    "registered_models",
]
