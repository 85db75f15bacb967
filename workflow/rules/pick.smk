# The picking chain, one job per micrograph: preprocess -> detect -> peaks -> crop -> classify,
# then the dataset-level files. Coordinates are in the pixels of the micrographs as given.


rule preprocess:
    input:
        micrograph=micrograph_path,
        model=detector_model,
    output:
        temp("results/{dataset}/preprocessed/{micrograph}.mrc"),
    log:
        "logs/{dataset}/preprocess/{micrograph}.log",
    params:
        diameter_px=diameter_px,
        pixel_size=pixel_size,
        light_particles=light_particles,
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/preprocess.py"


rule detect:
    input:
        preprocessed="results/{dataset}/preprocessed/{micrograph}.mrc",
        model=detector_model,
    output:
        "results/{dataset}/maps/{micrograph}.mrc",
    log:
        "logs/{dataset}/detect/{micrograph}.log",
    params:
        device=config["device"],
    threads: 2
    resources:
        mem_mb=3000,
        runtime=20,
        gpu=gpus(),
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/detect.py"


rule peaks:
    input:
        centre_map="results/{dataset}/maps/{micrograph}.mrc",
        model=detector_model,
        thresholds=thresholds_file,
    output:
        "results/{dataset}/candidates/{micrograph}.star",
    log:
        "logs/{dataset}/peaks/{micrograph}.log",
    params:
        diameter_px=diameter_px,
        pixel_size=pixel_size,
        settings=config["peaks"],
        with_classifier=use_classifier(),
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/peaks.py"


if use_classifier():

    rule crop:
        input:
            preprocessed="results/{dataset}/preprocessed/{micrograph}.mrc",
            candidates="results/{dataset}/candidates/{micrograph}.star",
        output:
            "results/{dataset}/patches/{micrograph}.mrcs",
        log:
            "logs/{dataset}/crop/{micrograph}.log",
        params:
            pixel_size=pixel_size,
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            "../../envs/drpnet.yaml"
        script:
            "../scripts/crop.py"

    rule classify:
        input:
            patches="results/{dataset}/patches/{micrograph}.mrcs",
            candidates="results/{dataset}/candidates/{micrograph}.star",
            model=classifier_model,
            thresholds=thresholds_file,
        output:
            "results/{dataset}/picks/{micrograph}.star",
        log:
            "logs/{dataset}/classify/{micrograph}.log",
        params:
            cutoff=config["classify"]["cutoff"],
            device=config["device"],
        threads: 2
        resources:
            mem_mb=2000,
            runtime=10,
            gpu=gpus(),
        conda:
            "../../envs/drpnet.yaml"
        script:
            "../scripts/classify.py"

else:

    rule keep_candidates:
        input:
            "results/{dataset}/candidates/{micrograph}.star",
        output:
            "results/{dataset}/picks/{micrograph}.star",
        log:
            "logs/{dataset}/keep_candidates/{micrograph}.log",
        conda:
            "../../envs/drpnet.yaml"
        shell:
            "cp {input} {output} 2> {log}"


rule export:
    input:
        picks=pick_file_list,
    output:
        **export_outputs(),
    log:
        "logs/{dataset}/export.log",
    params:
        micrographs=dataset_micrographs,
        box_size=box_size_px,
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/export.py"
