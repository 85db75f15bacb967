# Scores of the picks against true coordinates, for datasets that have them.


rule evaluate:
    input:
        picks=evaluated_pick_files,
        truth=truth_file_list,
    output:
        "results/{dataset}/evaluation.tsv",
    log:
        "logs/{dataset}/evaluate.log",
    params:
        micrographs=evaluated_micrographs,
        diameter_px=diameter_px,
        radius=config["evaluate"]["radius"],
    localrule: True
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/evaluate.py"
