"""The conda environment lists what the package needs and installs drpnet from this checkout; config docs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv

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


def test_the_workflow_extra_builds_reports_and_leaves_the_slurm_plugin_to_its_own():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {extra: {re.split(r"[\s<>=\[]", requirement)[0] for requirement in extras[extra]} for extra in extras}
    assert {"snakemake", "pygments"} <= names["workflow"]  # snakemake --report: "pygments must be installed"
    assert "snakemake-executor-plugin-slurm" in names["slurm"] - names["workflow"]


PARSE = """
import os, pathlib, sys
from snakemake.api import SnakemakeApi
from snakemake.settings.types import DeploymentMethod, DeploymentSettings, OutputSettings, ResourceSettings
with SnakemakeApi(OutputSettings()) as api:
    conda = DeploymentSettings(deployment_method={DeploymentMethod.CONDA})
    workflow = api.workflow(ResourceSettings(), snakefile=pathlib.Path(sys.argv[1]), deployment_settings=conda)
    workflow.dag()
print(os.environ["DRPNET_SOURCE"])
"""


def test_the_conda_env_installs_drpnet_from_this_checkout_wherever_snakemake_deploys_it(tmp_path):
    """Snakemake copies the env file and its post-deploy script into <workdir>/.snakemake/conda/ and runs the script
    from the working directory, in the new env: the install must still find this repository (`--editable ..` in the
    env file resolved to .snakemake/). A venv of this Python with the env's setuptools stands in for the conda env,
    which conda cannot build here."""
    env = yaml.safe_load((REPO / "envs" / "drpnet.yaml").read_text())
    assert not [entry for entry in env["dependencies"] if isinstance(entry, dict)], "paths in the env file break"
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    shutil.copy(REPO / "config" / "config.yaml", project / "config")
    parsed = subprocess.run(
        [sys.executable, "-c", PARSE, str(REPO / "Snakefile")], cwd=project, capture_output=True, text=True
    )
    assert parsed.returncode == 0, parsed.stderr[-2000:]
    source = parsed.stdout.split()[-1]
    deployed = project / ".snakemake" / "conda" / "0123abcd"  # Snakemake names it by a hash of the env
    venv.create(deployed, with_pip=True)
    setuptools = next(entry for entry in env["dependencies"] if str(entry).startswith("setuptools"))
    subprocess.run([f"{deployed}/bin/pip", "install", "-q", setuptools.replace(" ", "")], check=True)
    shutil.copy(REPO / "envs" / "drpnet.yaml", f"{deployed}.yaml")
    shutil.copy(REPO / "envs" / "drpnet.post-deploy.sh", f"{deployed}.post-deploy.sh")
    environ = os.environ | {"PATH": f"{deployed}/bin:{os.environ['PATH']}", "DRPNET_SOURCE": source}
    environ.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(
        ["bash", f"{deployed}.post-deploy.sh"], cwd=project, env=environ, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    where = "import importlib.util; print(importlib.util.find_spec('drpnet').origin)"
    origin = subprocess.run([f"{deployed}/bin/python", "-c", where], cwd=tmp_path, capture_output=True, text=True)
    assert origin.stdout.strip() == str(REPO / "drpnet" / "__init__.py"), origin.stdout + origin.stderr


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
