"""The config: pydantic models of the one YAML file and a loader with precise errors."""

from originguard.config.loader import LoadedConfig, load_config, load_config_text
from originguard.config.models import Config

__all__ = ["Config", "LoadedConfig", "load_config", "load_config_text"]
