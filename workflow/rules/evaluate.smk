# Scores of the picks against true coordinates, for datasets that have them, and the pictures of the report.
# They read the batches' tables of picks and candidates (every peak the detector ranked).


rule evaluate:
    wildcard_constraints:
        evaluation="|".join(EVALUATIONS),
    input:
        picks=labelled_batch_files("results/{dataset}/picks/{batch}.tsv.gz"),
        candidates=labelled_batch_files("results/{dataset}/candidates/{batch}.tsv.gz"),
        summaries=labelled_batch_files("results/{dataset}/candidates/{batch}.json"),
        truth=truth_file_list,
    output:
        scores="results/{dataset}/{evaluation}/scores.tsv",
        table=report(
            "results/{dataset}/{evaluation}/scores.html",
            caption="../report/scores.rst",
            category="Scores",
            subcategory="{dataset}",
            labels={"figure": "scores per micrograph", "scored": "{evaluation}"},
        ),
        curves="results/{dataset}/{evaluation}/precision_recall.tsv",
        summary="results/{dataset}/{evaluation}/summary.json",
        plot=report(
            "results/{dataset}/{evaluation}/precision_recall.png",
            caption="../report/precision_recall.rst",
            category="Scores",
            subcategory="{dataset}",
            labels={"figure": "precision-recall curve", "scored": "{evaluation}"},
        ),
    log:
        "logs/{dataset}/{evaluation}.log",
    params:
        micrographs=evaluated_micrographs,
        diameter_px=diameter_px,
        radii=config["evaluate"]["radii"],
        truth_margin=truth_margin,
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/evaluate.py"


rule plot_picks:
    input:
        picks=batch_files("results/{dataset}/picks/{batch}.tsv.gz"),
        summaries=batch_files("results/{dataset}/candidates/{batch}.json"),
        thresholds=thresholds_file,
        truth=truth_file_list,
    output:
        histogram=report(
            "results/{dataset}/plots/score_histogram.png",
            caption="../report/score_histogram.rst",
            category="Picks",
            subcategory="{dataset}",
            labels={"figure": "score histogram"},
        ),
        counts=report(
            "results/{dataset}/plots/picks_per_micrograph.png",
            caption="../report/picks_per_micrograph.rst",
            category="Picks",
            subcategory="{dataset}",
            labels={"figure": "picks per micrograph"},
        ),
    log:
        "logs/{dataset}/plot_picks.log",
    params:
        truth_micrographs=evaluated_micrographs,
        diameter_px=diameter_px,
        radius=config["evaluate"]["radii"][0],
        threshold=config["peaks"]["threshold"],
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/plot_picks.py"


rule overlay:
    input:
        micrograph=micrograph_path,
        picks=micrograph_batch_file("results/{dataset}/picks/{batch}.tsv.gz"),
        summary=micrograph_batch_file("results/{dataset}/candidates/{batch}.json"),
        truth=overlay_truth,
    output:
        report(
            "results/{dataset}/overlays/{micrograph}.jpg",
            caption="../report/overlay.rst",
            category="Overlays",
            subcategory="{dataset}",
            labels={"micrograph": "{micrograph}"},
        ),
    log:
        "logs/{dataset}/overlay/{micrograph}.log",
    params:
        diameter_px=diameter_px,
        radius=config["evaluate"]["radii"][0],
        size=config["report"]["overlay_size"],
    resources:
        mem_mb=1500,
        runtime=5,
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/overlay.py"
