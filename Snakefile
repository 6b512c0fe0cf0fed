# transinv: Kayhan & van Gemert (CVPR 2020), regenerated end to end.
#   snakemake --cores N                                  embedded default (config/config.yaml)
#   snakemake --configfile config/paper.yaml ...         full paper protocol
#   snakemake --report results/report.html               report of every table and figure


from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    border=BORDER_PATTERN,
    seed=r"\d+",


include: "workflow/rules/data.smk"
include: "workflow/rules/red_green.smk"
include: "workflow/rules/rook.smk"
include: "workflow/rules/translation.smk"
include: "workflow/rules/equivariance.smk"
include: "workflow/rules/quadrant.smk"
include: "workflow/rules/shift.smk"
include: "workflow/rules/data_efficiency.smk"
include: "workflow/rules/patch_matching.smk"
include: "workflow/rules/action_recognition.smk"
include: "workflow/rules/online_invariance.smk"
include: "workflow/rules/aggregate.smk"


rule all:
    default_target: True
    input:
        final_targets(),
