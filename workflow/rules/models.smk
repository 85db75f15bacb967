# Which detector, classifier and thresholds pick each dataset, and the settings of the models trained here.
from drpnet.shipped import resolve


def trained_here(name):
    """True when a model setting names a configured dataset: the workflow trains that model on its truth."""
    if name not in config["datasets"]:
        return False
    if truth_dir(name) is None:
        raise WorkflowError(f"model {name!r} names a dataset without truth: nothing to train on")
    if not dataset_truth(name):
        folder = truth_dir(name)
        raise WorkflowError(f"model {name!r}: no file in {folder} is named after its micrographs: nothing to train on")
    return True


def base_detector_model(wildcards):
    """The configured detector: shipped, a checkpoint, or trained on a labelled dataset."""
    name = config["model"]["detector"]
    return f"results/models/{name}/detector.pt" if trained_here(name) else str(resolve(name, "detector"))


def detector_model(wildcards):
    """The detector that picks a dataset: with model: {adapt: true}, the configured one adapted to it."""
    if config["model"]["adapt"]:
        return f"results/models/{wildcards.dataset}/detector_adapted.pt"
    return base_detector_model(wildcards)


def adaptation_micrographs(wildcards):
    """The micrographs a dataset's detector adapts to: the first ones by name."""
    return list(MICROGRAPHS[wildcards.dataset].values())[: config["training"]["adapt"]["micrographs"]]


SELFTRAINED = "selftrained"


def classifier_model(wildcards):
    name = config["model"]["classifier"]
    if name == SELFTRAINED:
        return f"results/models/{wildcards.dataset}/classifier_selftrained.pt"
    return f"results/models/{name}/classifier.pt" if trained_here(name) else str(resolve(name, "classifier"))


def selftraining_micrographs(wildcards):
    """The micrographs that teach a dataset's label-free classifier: the first ones by name."""
    return list(MICROGRAPHS[wildcards.dataset].values())[: config["training"]["selftrain_micrographs"]]


def picking_classifier(wildcards):
    """The classifier that scores a dataset's candidates, as a one-item list, or none."""
    return [classifier_model(wildcards)] if use_classifier() else []


def thresholds_file(wildcards):
    """Thresholds chosen from the dataset's own scores (model: {thresholds: auto}) or on a labelled dataset
    (model: {thresholds: <dataset>}) as a one-item list, or none (checkpoint). A detector trained here on labels
    keeps, under auto, the threshold chosen on its labelled validation micrographs (on EMPIAR-10059 the mixture of
    its scores lay at twice that and kept 38% of the particles), an adapted one the threshold adaptation chose on
    the dataset (drpnet.adapt)."""
    name = config["model"]["thresholds"]
    own_threshold = trained_here(config["model"]["detector"]) or config["model"]["adapt"]
    if name == "checkpoint" or (name == "auto" and own_threshold):
        return []
    if name == "auto":
        return [f"results/{wildcards.dataset}/operating_point.json"]
    if not trained_here(name):
        raise WorkflowError(f"model: thresholds: {name!r} is neither auto, checkpoint nor a configured dataset")
    return [f"results/models/{name}/thresholds.json"]


def calibration_classifier(wildcards):
    """The classifier whose cutoff calibration chooses, as a one-item list, or none."""
    return [classifier_model(wildcards)] if use_classifier() else []


def training_files(wildcards):
    """The target stacks and centre files of a dataset's labelled micrographs."""
    names = list(truth_files(wildcards))
    if not names:
        raise WorkflowError(f"dataset {wildcards.dataset!r} has no labelled micrographs to train on")
    validation = config["training"]["validation"]
    unknown = sorted(set(validation) - set(names)) if isinstance(validation, list) else []
    if unknown:
        listed = ", ".join(unknown)
        raise WorkflowError(f"training: validation: {listed} not among the labelled micrographs of {wildcards.dataset!r}")
    folder = f"results/models/{wildcards.dataset}/targets"
    return {
        "stacks": [f"{folder}/{name}.mrc" for name in names],
        "centres": [f"{folder}/{name}.star" for name in names],
    }


def initial_detector(wildcards):
    """The checkpoint that detector training starts from, as a one-item list, or an empty one."""
    initial = config["training"]["initial"]
    return [str(resolve(initial, "detector"))] if initial else []


def detector_training(wildcards):
    """Keyword arguments of drpnet.train.DetectorTraining from the config."""
    return {**config["training"]["detector"], "seed": config["training"]["seed"]}


def classifier_training(wildcards):
    """Keyword arguments of drpnet.train_classifier.ClassifierTraining from the config."""
    return {**config["training"]["classifier"], "seed": config["training"]["seed"]}


def use_classifier():
    """Adapted detectors pick alone: a classifier was trained against another detector's candidates."""
    return config["model"]["classifier"] != "none" and not config["model"]["adapt"]


def labelled_micrographs(wildcards):
    """The micrographs of a dataset that have true coordinates, in the order of truth_file_list."""
    return [MICROGRAPHS[wildcards.dataset][name] for name in truth_files(wildcards)]


def micrograph_truth(wildcards):
    return truth_files(wildcards)[wildcards.micrograph]
