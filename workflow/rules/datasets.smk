# Labelled and simulated datasets: their true coordinates, the folder their scores go to, the simulation settings.


def truth_dir(dataset):
    """Folder of true coordinates for a dataset, or None."""
    spec = config["datasets"][dataset]
    if "simulate" in spec:
        return f"{SIMULATED.format(dataset=dataset)}/coordinates"
    return spec.get("truth")


@functools.cache
def _labelled(dataset):
    """Micrograph name -> its true coordinate file, for a real dataset's truth folder (RELION's picking suffixes and
    subfolders understood); says so once when the folder's files match none of the dataset's micrographs."""
    folder = truth_dir(dataset)
    if not os.path.isdir(folder):
        raise WorkflowError(f"dataset {dataset!r}: truth folder {folder} does not exist")
    available = coordinate_files(folder)
    files = {name: str(available[name]) for name in MICROGRAPHS[dataset] if name in available}
    if not files:
        example = f", e.g. {next(iter(available.values())).name}" if available else ""
        print(f"drpnet: {dataset}: none of the {len(available)} STAR files in truth folder {folder} is named after a "
              f"micrograph of the dataset{example}: nothing is scored", file=sys.stderr)
    return files


def dataset_truth(dataset):
    """Micrograph name -> true coordinate file of a dataset; a real dataset may label only some, or none."""
    folder = truth_dir(dataset)
    if folder is None:
        return {}
    if "simulate" in config["datasets"][dataset]:
        return {name: f"{folder}/{name}.star" for name in MICROGRAPHS[dataset]}
    return _labelled(dataset)


def truth_files(wildcards):
    return dataset_truth(wildcards.dataset)


def evaluated_micrographs(wildcards):
    """Names of the micrographs that have true coordinates."""
    return list(truth_files(wildcards))


def truth_file_list(wildcards):
    return list(truth_files(wildcards).values())


def overlay_truth(wildcards):
    """The micrograph's true coordinates as a one-item list, or an empty list."""
    path = truth_files(wildcards).get(wildcards.micrograph)
    return [path] if path else []


def truth_margin(wildcards):
    return dataset_spec(wildcards)["truth_margin"]


#: Folders of a dataset's scores: against labels no model or threshold was fitted to, or against its training data.
EVALUATIONS = ("evaluation", "evaluation_training_data")


def evaluation_folder(dataset):
    """``evaluation_training_data`` when the workflow trains a model, or chooses thresholds, on this dataset's labels
    (its scores are then not held out), ``evaluation`` otherwise."""
    fitted = {config["model"]["detector"], config["model"]["classifier"], config["model"]["thresholds"]}
    return EVALUATIONS[1] if dataset in fitted else EVALUATIONS[0]


def simulation_settings(wildcards):
    """Keyword arguments of drpnet.simulate.SimulationSettings for a simulated dataset."""
    spec = dataset_spec(wildcards)
    simulate = spec["simulate"]
    return {
        "shape": tuple(simulate["shape"]),
        "pixel_size": spec["pixel_size"],
        "diameter": diameter_px(wildcards) * spec["pixel_size"],
        "n_particles": simulate["particles"],
        "defocus": simulate["defocus"],
        "snr": simulate["snr"],
        "junk": simulate["junk"],
        "carbon": simulate["carbon"],
        "family": simulate["family"],
        "aggregates": simulate["aggregates"],
    }


def simulation_index(wildcards):
    return int(wildcards.micrograph.removeprefix("sim_"))


def simulation_seed(wildcards):
    return dataset_spec(wildcards)["simulate"]["seed"]
