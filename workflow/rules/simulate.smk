# Simulated micrographs with their true centres: the demo dataset, made here so nothing is downloaded.


rule simulate:
    output:
        micrograph=f"{SIMULATED}/micrographs/{{micrograph}}.mrc",
        coordinates=f"{SIMULATED}/coordinates/{{micrograph}}.star",
    log:
        "logs/{dataset}/simulate/{micrograph}.log",
    params:
        settings=simulation_settings,
        index=simulation_index,
        seed=simulation_seed,
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/drpnet.yaml"
    script:
        "../scripts/simulate.py"
