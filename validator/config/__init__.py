"""The config file, `.tdv.yaml`: which policies run and with which parameters, which
resources are left out, accepted findings (exemptions), outputs and the baseline.
See docs/configuration.md."""

from pathlib import Path

from validator.config.loader import CONFIG_NAME, check_against_policies, find_config, load_config
from validator.config.settings import Config, ConfigError, ParameterSetting, PolicySelection

STARTER = Path(__file__).with_name("starter.yaml")  # what `tdv config init` writes

__all__ = [
    "CONFIG_NAME", "STARTER", "Config", "ConfigError", "ParameterSetting", "PolicySelection",
    "check_against_policies", "find_config", "load_config",
]
