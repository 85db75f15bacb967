#!/usr/bin/env bash
# Snakemake runs this in the new environment (--use-conda / --sdm conda) to install drpnet from the workflow's own
# checkout, which the Snakefile names in DRPNET_SOURCE. A path in drpnet.yaml cannot name it: Snakemake copies the env
# file into .snakemake/conda/ first, and conda resolves the file's relative paths from there.
set -euo pipefail
python -m pip install --quiet --no-deps --no-build-isolation --editable "${DRPNET_SOURCE:?set by the drpnet Snakefile}"
