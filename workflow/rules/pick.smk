# Picking in batches (see workflow/README.md): `pick` runs the networks over a batch of micrographs in one process
# and ranks every peak; `operating_point` chooses the dataset's threshold from its first batches' scores (thresholds:
# auto); `select` applies the thresholds; `export` writes the dataset-level files.
# Coordinates are in the pixels of the micrographs as given.


rule pick:
    input:
        micrographs=batch_micrographs,
        detector=detector_model,
        classifier=picking_classifier,
    output:
        candidates="results/{dataset}/candidates/{batch}.tsv.gz",
        summary="results/{dataset}/candidates/{batch}.json",
        **kept_outputs(),
    log:
        "logs/{dataset}/pick/{batch}.log",
    params:
        names=batch_names,
        diameter_px=diameter_px,
        pixel_size=pixel_size,
        light_particles=light_particles,
        peaks=peak_settings,
        device=config["device"],
        strict=config["on_bad_micrograph"] == "fail",
    threads: PICK_THREADS
    resources:
        mem_mb=pick_memory_mb,
        runtime=pick_runtime,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/pick.py"


rule operating_point:
    input:
        candidates=first_batch_files("results/{dataset}/candidates/{batch}.tsv.gz"),
        summaries=first_batch_files("results/{dataset}/candidates/{batch}.json"),
    output:
        "results/{dataset}/operating_point.json",
    log:
        "logs/{dataset}/operating_point.log",
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/operating_point.py"


rule select:
    input:
        candidates="results/{dataset}/candidates/{batch}.tsv.gz",
        summary="results/{dataset}/candidates/{batch}.json",
        thresholds=thresholds_file,
    output:
        table="results/{dataset}/picks/{batch}.tsv.gz",
    log:
        "logs/{dataset}/select/{batch}.log",
    params:
        threshold=config["peaks"]["threshold"],
        cutoff=config["classify"]["cutoff"],
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/select.py"


rule export:
    input:
        picks=batch_files("results/{dataset}/picks/{batch}.tsv.gz"),
        summaries=batch_files("results/{dataset}/candidates/{batch}.json"),
        thresholds=thresholds_file,
    output:
        **export_outputs(),
    log:
        "logs/{dataset}/export.log",
    params:
        threshold=config["peaks"]["threshold"],
        box_size=box_size_px,
        relion_names=relion_names,
        relion_project=relion_project,
        skipped=skipped_micrographs,
        star=lambda wildcards: relion_star(wildcards.dataset),
        extraction_box=lambda wildcards: extraction_box(wildcards.dataset),
    # The product files come before plots and scores, so a failing evaluation never costs them.
    priority: 10
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/export.py"
