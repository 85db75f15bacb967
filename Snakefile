# drpnet: pick particles in cryo-EM micrographs with DRPnet. See README.md; settings in config/config.yaml.
from snakemake.utils import min_version

from drpnet.configfile import yaml_problem

min_version("8.20")

if problem := yaml_problem("config/config.yaml"):  # Snakemake's own message names neither file nor line
    raise WorkflowError(f"config: {problem}")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/pick.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/train.smk"


rule all:
    default_target: True
    input:
        all_targets(),


onsuccess:
    print(run_summary(summary_datasets()))
