"""Batch manifests: batches that stay the same as a dataset grows."""

from __future__ import annotations

import pytest

from drpnet.manifest import assign_batches, batches, read_manifest, write_manifest


def test_new_micrographs_form_new_batches_and_old_ones_keep_theirs():
    first = assign_batches([f"m{i:02d}" for i in range(5)], {}, size=2)
    assert batches(first, first) == {"b00000": ["m00", "m01"], "b00001": ["m02", "m03"], "b00002": ["m04"]}
    grown = assign_batches([*first, "a_new", "m99", "z_new"], first, size=2)
    assert {name: grown[name] for name in first} == first, "the half-full batch is not topped up: it would rerun"
    assert batches(["a_new", "m99", "z_new"], grown) == {"b00003": ["a_new", "m99"], "b00004": ["z_new"]}


def test_a_micrograph_that_is_gone_leaves_its_batch_and_gets_it_back():
    assigned = assign_batches(["a", "b", "c"], {}, size=3)
    assert batches(["a", "c"], assigned) == {"b00000": ["a", "c"]}
    assert assign_batches(["a", "b", "c"], assigned, size=3) == assigned


def test_the_manifest_round_trips_and_a_foreign_file_is_refused(tmp_path):
    assigned = assign_batches(["x", "y", "z"], {}, size=2)
    write_manifest(tmp_path / "results" / "batches.tsv", assigned)
    assert read_manifest(tmp_path / "results" / "batches.tsv") == assigned
    assert read_manifest(tmp_path / "missing.tsv") == {}
    (tmp_path / "other.tsv").write_text("name\tvalue\nx\t1\n")
    with pytest.raises(ValueError, match="not a batch manifest"):
        read_manifest(tmp_path / "other.tsv")
    (tmp_path / "broken.tsv").write_text("micrograph\tbatch\nx\n")
    with pytest.raises(ValueError, match="line 2"):
        read_manifest(tmp_path / "broken.tsv")


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        assign_batches(["a"], {}, size=0)
