# Datasets, micrographs, batches, resources and targets from the validated config; helpers shared by the rules
# (models.smk: which models pick and what training reads; datasets.smk: labelled and simulated datasets).
import functools
import glob
import math
import os
import sys

from snakemake.utils import validate

from drpnet.io import MICROGRAPH_SUFFIXES, InputError, folder_micrographs, micrograph_name, micrograph_shape
from drpnet.manifest import assign_batches, batches, read_manifest, write_manifest
from drpnet.operating import MICROGRAPHS as OPERATING_MICROGRAPHS
from drpnet.relion import coordinate_files, default_project, read_micrographs_star, unwritable
from drpnet.summary import extract_box, run_summary


for _name, _spec in config.get("datasets", {}).items():  # before the schema, whose message would not say why
    if isinstance(_spec, dict) and "diameter" in _spec:
        raise WorkflowError(
            f"datasets: {_name}: diameter: give the unit: diameter_angstrom, or diameter_px (pixels of the micrographs)"
        )
validate(config, schema="../../config/schemas/config.schema.yaml")

# envs/drpnet.post-deploy.sh installs the package from this checkout into each conda env (--use-conda).
os.environ.update(DRPNET_SOURCE=workflow.basedir)  # set, not read: not an envvars: requirement

SIMULATED = "results/{dataset}/simulated"


#: Dataset -> (RELION project folder, micrograph name -> rlnMicrographName) for datasets given as a RELION STAR.
RELION = {}
#: Dataset -> micrographs skipped before picking (listed in a RELION STAR but not there, or with a name RELION
#: cannot read back), each {"micrograph": path, "reason": why}; export lists them in rejected.tsv.
SKIPPED = {}


def _skip(dataset, paths, rows):
    """``paths`` (name -> path) without the ``rows`` skipped; records and reports those."""
    if not rows:
        return paths
    SKIPPED.setdefault(dataset, []).extend(rows)
    print(f"drpnet: {dataset}: {len(rows)} micrographs skipped, the first {rows[0]['micrograph']}: "
          f"{rows[0]['reason']} (all in results/{dataset}/rejected.tsv)", file=sys.stderr)
    gone = {row["micrograph"] for row in rows}
    return {name: path for name, path in paths.items() if path not in gone}


def _relion_micrographs(dataset, spec):
    """Micrograph name -> path for a dataset given as a RELION micrographs STAR; records its RELION names and fills in
    its pixel size from the optics table when the config gives none."""
    star = spec["micrographs"]
    project = spec.get("relion_project") or default_project(star)
    try:
        names, optics_pixel_size = read_micrographs_star(star, project)
    except InputError as error:
        raise WorkflowError(f"dataset {dataset!r}: {error}")
    if "pixel_size" not in spec:
        if optics_pixel_size is None:
            raise WorkflowError(f"dataset {dataset!r}: {star} gives no single rlnMicrographPixelSize: set pixel_size")
        spec["pixel_size"] = optics_pixel_size
    found = {}
    for name in names:
        key = micrograph_name(name)
        if key in found:
            raise WorkflowError(f"dataset {dataset!r}: two micrographs in {star} are named {key!r}")
        found[key] = name
    paths = {key: os.path.normpath(os.path.join(project, name)) for key, name in found.items()}
    missing = [path for path in paths.values() if not os.path.isfile(path)]
    paths = _skip(dataset, paths, [{"micrograph": path, "reason": f"listed in {star}, not found"} for path in missing])
    RELION[dataset] = (project, {key: found[key] for key in paths})
    return paths


def _list_micrographs(dataset, spec):
    """Micrograph name -> path for one dataset of the config."""
    if isinstance(spec.get("micrographs"), str) and spec["micrographs"].endswith(".star"):
        return _relion_micrographs(dataset, spec)
    if "simulate" in spec:
        count = spec["simulate"]["count"]
        names = [f"sim_{index:03d}" for index in range(count)]
        return {name: f"{SIMULATED.format(dataset=dataset)}/micrographs/{name}.mrc" for name in names}
    patterns = spec["micrographs"] if isinstance(spec["micrographs"], list) else [spec["micrographs"]]
    paths = []
    for pattern in patterns:
        if os.path.isdir(pattern):
            paths += folder_micrographs(pattern)
        else:
            paths += sorted(p for p in glob.glob(pattern) if p.lower().endswith(MICROGRAPH_SUFFIXES))
    if not paths:
        raise WorkflowError(f"dataset {dataset!r}: no micrographs ({', '.join(MICROGRAPH_SUFFIXES)}) match {spec['micrographs']!r}")
    found = {}
    for path in paths:
        name = micrograph_name(path)
        if name in found:
            raise WorkflowError(f"dataset {dataset!r}: two micrographs are named {name!r}: {found[name]} and {path}")
        found[name] = path
    return found


def _readable_micrographs(dataset, spec):
    """:func:`_list_micrographs` without those whose names RELION could not read back."""
    paths = _list_micrographs(dataset, spec)
    return _skip(dataset, paths, unwritable(paths.values()).to_dict("records"))


MICROGRAPHS = {dataset: _readable_micrographs(dataset, spec) for dataset, spec in config["datasets"].items()}


def manifest_path(dataset):
    return f"results/{dataset}/batches.tsv"


def _batch_assignment(dataset):
    """Micrograph name -> batch: the manifest's, and new batches for micrographs it does not list yet."""
    try:
        earlier = read_manifest(manifest_path(dataset))
    except ValueError as error:
        raise WorkflowError(f"{error}: delete it to batch the dataset anew")
    return earlier, assign_batches(MICROGRAPHS[dataset], earlier, config["batch_size"])


ASSIGNMENTS = {dataset: _batch_assignment(dataset) for dataset in MICROGRAPHS}


#: Dataset -> batch -> its micrograph names.
BATCHES = {dataset: batches(MICROGRAPHS[dataset], assigned) for dataset, (_, assigned) in ASSIGNMENTS.items()}


BATCH_OF = {dataset: {name: batch for batch, names in b.items() for name in names} for dataset, b in BATCHES.items()}


onstart:
    # A run (not a dry run) records the batches it plans, so its jobs and later runs find the same ones.
    for dataset, (earlier, assigned) in ASSIGNMENTS.items():
        if assigned != earlier:
            write_manifest(manifest_path(dataset), assigned)


wildcard_constraints:
    dataset="|".join(MICROGRAPHS),
    micrograph="[^/]+",
    batch=r"b\d+",


def first_batch_files(pattern):
    """Like :func:`batch_files`, for the first batches, those that hold the dataset's first
    :data:`drpnet.operating.MICROGRAPHS` micrographs: they choose its operating point, and later batches change it
    not."""

    def files(wildcards):
        chosen, count = [], 0
        for batch, names in BATCHES[wildcards.dataset].items():
            if count >= OPERATING_MICROGRAPHS:
                break
            chosen.append(pattern.format(dataset=wildcards.dataset, batch=batch))
            count += len(names)
        return chosen

    return files


def batch_names(wildcards):
    return BATCHES[wildcards.dataset][wildcards.batch]


def batch_micrographs(wildcards):
    return [MICROGRAPHS[wildcards.dataset][name] for name in batch_names(wildcards)]


def batch_files(pattern):
    """An input function: ``pattern`` (with ``{dataset}`` and ``{batch}``) for every batch of the dataset."""

    def files(wildcards):
        return [pattern.format(dataset=wildcards.dataset, batch=batch) for batch in BATCHES[wildcards.dataset]]

    return files


def labelled_batch_files(pattern):
    """Like :func:`batch_files`, for the batches that hold a micrograph with truth."""

    def files(wildcards):
        batches = sorted({BATCH_OF[wildcards.dataset][name] for name in truth_files(wildcards)})
        return [pattern.format(dataset=wildcards.dataset, batch=batch) for batch in batches]

    return files


def micrograph_batch_file(pattern):
    """An input function: ``pattern`` for the batch of the micrograph."""

    def file(wildcards):
        batch = BATCH_OF[wildcards.dataset][wildcards.micrograph]
        return pattern.format(dataset=wildcards.dataset, batch=batch)

    return file


def _megapixels(dataset):
    """Pixels of one of the dataset's micrographs, in millions (from its header: a job's size follows from it)."""
    spec = config["datasets"][dataset]
    if "simulate" in spec:
        rows, columns = spec["simulate"]["shape"]
        return rows * columns / 1e6
    try:
        rows, columns = micrograph_shape(next(iter(MICROGRAPHS[dataset].values())))
    except (ValueError, OSError):  # a bad first micrograph is reported by its job, not here
        rows = columns = 4096
    return rows * columns / 1e6


MEGAPIXELS = {dataset: _megapixels(dataset) for dataset in MICROGRAPHS}


#: A pick job's seconds per megapixel, about twice what 2 threads take on a K3 micrograph (94 megapixels in 13 s), and
#: to start on a cold cluster node (the job's environment, torch and the models from a shared file system).
PICK_SECONDS_PER_MEGAPIXEL, PICK_START_SECONDS = 0.3, 300


#: Its memory: a process with torch and the models (and 1 GB of freed memory before it is trimmed, see
#: drpnet.batch.release_freed_memory), and per megapixel of the micrograph each of its threads holds.
PICK_BASE_MB, PICK_MB_PER_MEGAPIXEL, PICK_THREADS = 2000, 40, 2


def pick_runtime(wildcards, attempt):
    """Minutes a pick job asks for: its micrographs at :data:`PICK_SECONDS_PER_MEGAPIXEL`, twice that on a second
    attempt (``retries`` in the SLURM profile: a job that ran out of time is submitted again with more)."""
    seconds = len(batch_names(wildcards)) * MEGAPIXELS[wildcards.dataset] * PICK_SECONDS_PER_MEGAPIXEL
    return attempt * math.ceil((PICK_START_SECONDS + seconds) / 60)


def pick_memory_mb(wildcards, threads):
    return PICK_BASE_MB + math.ceil(threads * PICK_MB_PER_MEGAPIXEL * MEGAPIXELS[wildcards.dataset])


def kept_outputs():
    """Folders of the intermediates that ``keep:`` asks a pick job to write."""
    return {
        what: directory(f"results/{{dataset}}/{what}/{{batch}}") for what, wanted in config["keep"].items() if wanted
    }


def dataset_spec(wildcards):
    return config["datasets"][wildcards.dataset]


def micrograph_path(wildcards):
    return MICROGRAPHS[wildcards.dataset][wildcards.micrograph]


def pixel_size(wildcards):
    return dataset_spec(wildcards)["pixel_size"]


def dataset_diameter_px(dataset):
    """Particle diameter in pixels of the dataset's micrographs as given."""
    spec = config["datasets"][dataset]
    return spec["diameter_px"] if "diameter_px" in spec else spec["diameter_angstrom"] / spec["pixel_size"]


def diameter_px(wildcards):
    return dataset_diameter_px(wildcards.dataset)


def light_particles(wildcards):
    return dataset_spec(wildcards)["particles"] == "light"


def peak_settings(wildcards):
    """Keyword arguments of drpnet.pick.PeakSettings from the config."""
    return {key: value for key, value in config["peaks"].items() if key != "threshold"}


def gpus():
    """GPUs a network job asks the scheduler for."""
    return 1 if config["device"].startswith("cuda") else 0


def relion_names(wildcards):
    """Micrograph name -> rlnMicrographName for a dataset from a RELION STAR, else nothing (the paths as given)."""
    return RELION.get(wildcards.dataset, (None, {}))[1]


def skipped_micrographs(wildcards):
    return SKIPPED.get(wildcards.dataset, [])


def relion_project(wildcards):
    return RELION.get(wildcards.dataset, (None, {}))[0]


def export_outputs():
    """Dataset-level pick files, as the config asks for them."""
    outputs = {
        "autopick": "results/{dataset}/autopick.star",
        "coordinates": directory("results/{dataset}/coordinates"),
        "rejected": "results/{dataset}/rejected.tsv",
        "summary": "results/{dataset}/summary.json",
        "page": report(
            "results/{dataset}/summary.html",
            caption="../report/summary.rst",
            category="Summary",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}"},
        ),
    }
    if config["export"]["particles_star"]:
        outputs["particles"] = "results/{dataset}/particles.star"
    if config["export"]["box"]:
        outputs["box"] = directory("results/{dataset}/box")
    return outputs


def relion_star(dataset):
    """The dataset's RELION micrographs STAR, or None."""
    return config["datasets"][dataset]["micrographs"] if dataset in RELION else None


def extraction_box(dataset):
    """The box side in pixels for RELION's extraction: export: box_size diameters, even."""
    return extract_box(dataset_diameter_px(dataset), config["export"]["box_size"])


def summary_datasets():
    """Dataset -> (its RELION micrographs STAR or None, extraction box in pixels), for drpnet.summary.run_summary."""
    return {dataset: (relion_star(dataset), extraction_box(dataset)) for dataset in MICROGRAPHS}


def all_targets():
    targets = []
    for dataset in MICROGRAPHS:
        targets += expand([str(path) for path in export_outputs().values()], dataset=dataset)
        targets += report_targets(dataset)
    return targets


def report_targets(dataset):
    """Scores (with truth), plots and the first micrographs' overlays of a dataset."""
    targets = expand(
        "results/{dataset}/plots/{plot}.png", dataset=dataset, plot=["score_histogram", "picks_per_micrograph"]
    )
    if dataset_truth(dataset):
        targets += expand(
            "results/{dataset}/{evaluation}/{file}",
            dataset=dataset,
            evaluation=evaluation_folder(dataset),
            file=["scores.tsv", "scores.html", "precision_recall.tsv", "summary.json", "precision_recall.png"],
        )
    names = list(MICROGRAPHS[dataset])[: config["report"]["overlays"]]
    return targets + expand("results/{dataset}/overlays/{micrograph}.jpg", dataset=dataset, micrograph=names)


def dataset_micrographs(wildcards):
    return MICROGRAPHS[wildcards.dataset]


def box_size_px(wildcards):
    """Box side in input pixels for EMAN .box files, or None when none are asked for."""
    return round(config["export"]["box_size"] * diameter_px(wildcards)) if config["export"]["box"] else None
