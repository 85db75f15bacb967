"""The conda environment lists what the package needs."""

from __future__ import annotations

import re

import tomllib
import yaml

from tests.conftest import REPO

CONDA_NAMES = {"torch": "pytorch"}


def test_conda_env_lists_every_package_dependency():
    env = yaml.safe_load((REPO / "envs" / "drpnet.yaml").read_text())
    conda = {re.split(r"[\s<>=]", entry)[0] for entry in env["dependencies"] if isinstance(entry, str)}
    required = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in required:
        name = re.split(r"[\s<>=\[]", requirement)[0]
        assert CONDA_NAMES.get(name, name) in conda, name
    assert "conda-forge" in env["channels"]
    pip = next(entry["pip"] for entry in env["dependencies"] if isinstance(entry, dict))
    assert any(".." in line for line in pip), "the env must install drpnet itself"


def _schema_keys(schema: dict) -> set[str]:
    keys = set()
    for name, sub in schema.get("properties", {}).items():
        keys |= {name} | _schema_keys(sub)
    if isinstance(schema.get("additionalProperties"), dict):
        keys |= _schema_keys(schema["additionalProperties"])
    return keys


def test_config_readme_documents_every_key_of_the_schema():
    schema = yaml.safe_load((REPO / "config" / "schemas" / "config.schema.yaml").read_text())
    readme = (REPO / "config" / "README.md").read_text()
    undocumented = sorted(key for key in _schema_keys(schema) if f"`{key}`" not in readme)
    assert not undocumented, f"config/README.md does not mention {undocumented}"


def _defaults(schema: dict) -> object:
    """What the schema fills in for an object left out: its properties' defaults, objects recursively."""
    if schema.get("type") == "object" and "properties" in schema:
        return {name: _defaults(sub) for name, sub in schema["properties"].items()}
    return schema.get("default")


def test_the_training_block_of_config_yaml_shows_the_schema_defaults():
    """config.yaml spells out the training settings; they must be what a config that leaves them out gets."""
    schema = yaml.safe_load((REPO / "config" / "schemas" / "config.schema.yaml").read_text())
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert config["training"] == _defaults(schema["properties"]["training"])
