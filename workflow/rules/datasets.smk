# Labelled and simulated datasets: their true coordinates, the folder their scores go to, the simulation settings.


def truth_dir(dataset):
    """Folder of true coordinates for a dataset, or None."""
    spec = config["datasets"][dataset]
    if "simulate" in spec:
        return f"{SIMULATED.format(dataset=dataset)}/coordinates"
    return spec.get("truth")


def truth_files(wildcards):
    """True coordinate files of a dataset's micrographs; a real dataset may label only some."""
    folder = truth_dir(wildcards.dataset)
    if folder is not None and "simulate" not in dataset_spec(wildcards) and not os.path.isdir(folder):
        raise WorkflowError(f"dataset {wildcards.dataset!r}: truth folder {folder} does not exist")
    files = {name: f"{folder}/{name}.star" for name in MICROGRAPHS[wildcards.dataset]}
    if "simulate" in dataset_spec(wildcards):
        return files
    return {name: path for name, path in files.items() if os.path.isfile(path)}


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
