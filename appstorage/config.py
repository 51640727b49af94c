"""The configuration, one import away: the model, the YAML reader and the template inputs.

A facade over the modules that do the work (kept so ``from appstorage.config import ...`` goes on
working for the deployer and for callers):

- :mod:`appstorage.model`: the immutable, checked objects (``Config``, ``Environment``, ...);
- :mod:`appstorage.deployment`: the deployer's settings (``Deployment``, ...) and their reader;
- :mod:`appstorage.loader`: ``load_config``/``parse_config``, the YAML reader;
- :mod:`appstorage.inputs`: the template parameters and which configuration key feeds each.
"""

from __future__ import annotations

from .deployment import AutoDeployment, Deployment, OperationPreferences, ParameterOverride
from .errors import ConfigError, FieldError, PropsError
from .inputs import PARAMETER_NAMES, ParameterValue
from .loader import bundled_example_path, load_config, parse_config
from .model import (
    Config,
    Environment,
    ImagesSettings,
    MonitoringSettings,
    OutputSettings,
    TableSettings,
)

__all__ = [
    "PARAMETER_NAMES",
    "AutoDeployment",
    "Config",
    "ConfigError",
    "Deployment",
    "Environment",
    "FieldError",
    "ImagesSettings",
    "MonitoringSettings",
    "OperationPreferences",
    "OutputSettings",
    "ParameterOverride",
    "ParameterValue",
    "PropsError",
    "TableSettings",
    "bundled_example_path",
    "load_config",
    "parse_config",
]
