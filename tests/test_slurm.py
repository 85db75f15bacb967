"""The workflow on a real SLURM cluster: the local single-node recipe in ../shared/slurm."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from drpnet.io import read_coordinates
from tests.conftest import REPO

SLURM_RECIPE = REPO.parent / "shared" / "slurm"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not (SLURM_RECIPE / "start-local-slurm.sh").is_file(), reason=f"no SLURM recipe at {SLURM_RECIPE}"
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the local SLURM cluster must be started as root"),
]


def cluster_is_up() -> bool:
    """Whether a SLURM controller answers (the cluster is machine-wide: another run may be using it)."""
    try:
        return subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def slurm_cluster():
    """The local cluster; stopped afterwards only if this test started it."""
    started_here = not cluster_is_up()
    subprocess.run(["bash", str(SLURM_RECIPE / "start-local-slurm.sh")], check=True, capture_output=True, timeout=600)
    yield
    if started_here:
        subprocess.run(
            ["bash", str(SLURM_RECIPE / "stop-local-slurm.sh")], check=False, capture_output=True, timeout=300
        )


def test_workflow_runs_through_slurm_with_grouped_jobs(slurm_cluster, tmp_path):
    config = {
        "datasets": {
            "tiny": {
                "simulate": {"count": 2, "seed": 5, "shape": [512, 640], "particles": 25},
                "pixel_size": 1.5,
                "diameter": 120.0,
            }
        }
    }
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    command = [
        "timeout",
        "-s",
        "INT",
        "600",  # snakemake waits on SLURM jobs through SIGTERM; SIGINT cancels them
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--slurm-keep-successful-logs",
    ]
    process = subprocess.run(command, capture_output=True, text=True, timeout=700)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-4000:]
    for name in ("sim_000", "sim_001"):
        assert len(read_coordinates(tmp_path / "results" / "tiny" / "picks" / f"{name}.star")) > 5
    slurm_logs = list((tmp_path / ".snakemake" / "slurm_logs").rglob("*.log"))
    group_logs = [log for log in slurm_logs if "group_per_micrograph" in str(log)]
    assert group_logs, f"the per-micrograph stages should run as SLURM group jobs; logs: {slurm_logs}"
    submitted = set(re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", output))
    assert submitted, output[-3000:]
