"""The workflow on a real SLURM cluster: the local single-node recipe in ../shared/slurm, with accounting."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, picked
from tests.test_workflow import SNAKEMAKE, write_micrographs

SLURM_RECIPE = REPO.parent / "shared" / "slurm"
#: A partition and an account that are not the cluster's defaults, made for the test and removed after it.
PARTITION = ACCOUNT = "drpnet_ci"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not (SLURM_RECIPE / "start-local-slurm.sh").is_file(), reason=f"no SLURM recipe at {SLURM_RECIPE}"
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the local SLURM cluster must be started as root"),
]


def run(*command: str, check: bool = True) -> str:
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=600).stdout


def cluster_is_up() -> bool:
    """Whether a SLURM controller answers (the cluster is machine-wide: another run may be using it)."""
    try:
        return subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def slurm_cluster():
    """The local cluster with accounting, a spare partition and account; stopped afterwards only if started here."""
    started_here = not cluster_is_up()
    if not started_here and subprocess.run(["sacct", "-n", "-X"], capture_output=True).returncode != 0:
        pytest.skip("a SLURM cluster without accounting (sacct) is running: restart it with --with-accounting")
    run("bash", str(SLURM_RECIPE / "start-local-slurm.sh"), "--with-accounting")
    run("scontrol", "create", f"PartitionName={PARTITION}", "Nodes=ALL", "MaxTime=UNLIMITED")
    run("sacctmgr", "-i", "add", "account", ACCOUNT)
    run("sacctmgr", "-i", "add", "user", "root", f"account={ACCOUNT}")
    yield
    run("sacctmgr", "-i", "delete", "user", "root", f"account={ACCOUNT}", check=False)
    run("sacctmgr", "-i", "delete", "account", ACCOUNT, check=False)
    run("scontrol", "delete", f"PartitionName={PARTITION}", check=False)
    if started_here:
        run("bash", str(SLURM_RECIPE / "stop-local-slurm.sh"), check=False)


def gpu_site_profile(folder: Path) -> Path:
    """The shipped SLURM profile with a site's values filled in: partition, account, a GPU for picking."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    profile["default-resources"] |= {"slurm_partition": PARTITION, "slurm_account": ACCOUNT}
    profile["set-resources"] = {"pick": {"gpu": 1}}
    profile |= {"seconds-between-status-checks": 2, "slurm-init-seconds-before-status-checks": 2, "latency-wait": 5}
    folder.mkdir()
    (folder / "config.v8+.yaml").write_text(yaml.safe_dump(profile))
    return folder


def job_records(job_ids: set[str]) -> dict[str, dict[str, str]]:
    """``scontrol show job`` of each job (kept for MinJobAge after it ends), as key=value fields."""
    records = {}
    for job_id in job_ids:
        text = run("scontrol", "show", "job", "-o", job_id)
        records[job_id] = dict(re.findall(r"(\w+)=(\S*)", text))
    return records


def test_forty_micrographs_in_two_picking_jobs_with_the_site_profile(slurm_cluster, tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 40)
    config = {
        "datasets": {"mics": {"micrographs": str(mics / "*.mrc"), "pixel_size": 1.5, "diameter_angstrom": 120.0}},
        "batch_size": 20,
        "report": {"overlays": 0},
    }
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    profile = gpu_site_profile(tmp_path / "site")
    snakemake = [arg for arg in SNAKEMAKE if arg not in ("--cores", "2")]
    # snakemake waits on SLURM jobs through SIGTERM; SIGINT cancels them
    command = ["timeout", "-s", "INT", "600", *snakemake, "--directory", str(tmp_path), "--profile", str(profile)]
    process = subprocess.run(command, capture_output=True, text=True, timeout=700)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-4000:]
    for name in ("m000", "m039"):
        assert len(picked(tmp_path / "results" / "mics", tmp_path / "mics" / f"{name}.mrc")) > 5

    submitted = set(re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", output))
    accounted = run("sacct", "-X", "-n", "-P", "-j", ",".join(sorted(submitted)), "-o", "JobID,State,Partition,Account")
    rows = [line.split("|") for line in accounted.splitlines() if line]
    assert len(rows) == 2, f"40 micrographs in batches of 20 are two jobs (the rest run locally): {rows}"
    assert {tuple(row[1:]) for row in rows} == {("COMPLETED", PARTITION, ACCOUNT)}, rows
    for record in job_records(submitted).values():
        assert record["Comment"].startswith("rule_pick_wildcards_mics_b0000"), record["Comment"]
        assert "gpu" in record.get("TresPerJob", "") + record.get("TresPerNode", ""), record
        assert record["NumCPUs"] == "2", "a picking job's 2 threads"
