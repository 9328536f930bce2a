"""The model registry: the one place models are built from a JSON config."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch

from seqlab.models import (
    ModelConfig,
    build_model,
    model_config_dict,
    register_model,
    registered_models,
)


@dataclass
class _LinearConfig(ModelConfig):
    in_features: int = 3
    out_features: int = 2
    sizes: tuple[int, ...] = (4, 5)


class _Linear(torch.nn.Linear):
    def __init__(self, config: _LinearConfig) -> None:
        super().__init__(config.in_features, config.out_features)
        self.config = config


register_model("test_registry_linear", _LinearConfig, _Linear)


def test_build_from_json_round_trip():
    config = _LinearConfig(in_features=6, sizes=(1, 2, 3))
    as_json = json.loads(json.dumps(model_config_dict(config)))
    assert as_json["name"] == "test_registry_linear"
    model = build_model(as_json)
    assert isinstance(model, _Linear) and model.in_features == 6
    assert model.config == config  # lists come back as tuples where the default is one
    assert isinstance(build_model(config), _Linear)
    assert _LinearConfig.from_dict(config.to_dict()) == config
    assert "test_registry_linear" in registered_models()


def test_registering_again_is_idempotent_but_a_clash_is_an_error():
    register_model("test_registry_linear", _LinearConfig, _Linear)

    class Other(torch.nn.Module):
        def __init__(self, config):
            super().__init__()

    with pytest.raises(ValueError, match="already registered"):
        register_model("test_registry_linear", _LinearConfig, Other)
    with pytest.raises(TypeError, match="dataclass type"):
        register_model("test_registry_bad", dict, Other)


@dataclass
class _SharedConfig(_LinearConfig):
    pass


def test_a_config_shared_by_two_models_needs_a_name():
    register_model("test_registry_shared_a", _SharedConfig, _Linear)
    register_model("test_registry_shared_b", _SharedConfig, _Linear)
    with pytest.raises(ValueError, match="configures several models"):
        build_model(_SharedConfig())
    named = model_config_dict(_SharedConfig(), name="test_registry_shared_b")
    assert named["name"] == "test_registry_shared_b"
    assert isinstance(build_model(named), _Linear)


def test_bad_configs_name_the_problem():
    with pytest.raises(ValueError, match="unknown model 'nope'; registered models:"):
        build_model({"name": "nope"})
    with pytest.raises(ValueError, match="has no 'name' key"):
        build_model({"in_features": 3})
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['colour'\]"):
        build_model({"name": "test_registry_linear", "colour": "red"})
    with pytest.raises(TypeError, match="must be a dict"):
        build_model("test_registry_linear")
