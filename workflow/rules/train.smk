# Training on a dataset's labelled micrographs: `model: {detector: <dataset>}` (or classifier) makes the picking
# rules use what these rules train, so one `snakemake` run retrains and re-picks.


rule make_targets:
    input:
        micrograph=micrograph_path,
        truth=micrograph_truth,
    output:
        stack="results/models/{dataset}/targets/{micrograph}.mrc",
        centres="results/models/{dataset}/targets/{micrograph}.star",
    log:
        "logs/{dataset}/make_targets/{micrograph}.log",
    params:
        diameter_px=diameter_px,
        pixel_size=pixel_size,
        light_particles=light_particles,
        target_radius=config["training"]["detector"]["target_radius"],
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/make_targets.py"


rule train_detector:
    input:
        unpack(training_files),
        initial=initial_detector,
    output:
        model="results/models/{dataset}/detector.pt",
        table="results/models/{dataset}/detector.tsv",
        plot=report(
            "results/models/{dataset}/detector.png",
            caption="../report/training.rst",
            category="Training",
            subcategory="{dataset}",
            labels={"figure": "detector training"},
        ),
    log:
        "logs/{dataset}/train_detector.log",
    params:
        settings=detector_training,
        validation=config["training"]["validation"],
        device=config["device"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/train_detector.py"


rule train_classifier:
    input:
        unpack(training_files),
        detector=detector_model,
    output:
        model="results/models/{dataset}/classifier.pt",
        table="results/models/{dataset}/classifier.tsv",
    log:
        "logs/{dataset}/train_classifier.log",
    params:
        settings=classifier_training,
        validation=config["training"]["validation"],
        device=config["device"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/train_classifier.py"


rule selftrain_classifier:
    input:
        micrographs=selftraining_micrographs,
        detector=detector_model,
    output:
        model="results/models/{dataset}/classifier_selftrained.pt",
        table="results/models/{dataset}/classifier_selftrained.tsv",
    log:
        "logs/{dataset}/selftrain_classifier.log",
    params:
        settings=classifier_training,
        diameter_px=diameter_px,
        light_particles=light_particles,
        device=config["device"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/selftrain_classifier.py"


rule adapt_detector:
    input:
        micrographs=adaptation_micrographs,
        detector=base_detector_model,
    output:
        "results/models/{dataset}/detector_adapted.pt",
    log:
        "logs/{dataset}/adapt_detector.log",
    params:
        diameter_px=diameter_px,
        light_particles=light_particles,
        settings={key: value for key, value in config["training"]["adapt"].items() if key != "micrographs"},
        device=config["device"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/adapt_detector.py"


rule calibrate:
    input:
        micrographs=labelled_micrographs,
        truth=truth_file_list,
        detector=detector_model,
        classifier=calibration_classifier,
    output:
        "results/models/{dataset}/thresholds.json",
    log:
        "logs/{dataset}/calibrate.log",
    params:
        names=evaluated_micrographs,
        diameter_px=diameter_px,
        light_particles=light_particles,
        peaks=peak_settings,
        radius=config["evaluate"]["radii"][0],
        device=config["device"],
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/calibrate.py"
