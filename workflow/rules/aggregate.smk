# Every run record -> the one tidy summary, and the headline metrics DVC tracks.


rule summary:
    input:
        records=all_run_records(),
    output:
        summary=report(
            "results/summary.csv",
            caption="../../report/summary.rst",
            category="Summary",
        ),
        metrics="results/metrics.json",
    log:
        "logs/summary.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv summary {input.records} --output {output.summary}"
        " --metrics {output.metrics} > {log} 2>&1"


# The config this run used, merged (--configfile, --config) and validated: what
# `dvc params diff` compares, so a run on another config file is not invisible to it.
rule resolved_config:
    output:
        config="results/config.yaml",
    log:
        "logs/config.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=json.dumps(config, sort_keys=True),
    shell:
        "transinv write-config --config {params.config:q} --output {output.config} > {log} 2>&1"


# The paper-shaped report: a leaf of the DAG, remade exactly when a table, a figure,
# the summary or the config changes.
rule paper:
    input:
        summary="results/summary.csv",
        config="results/config.yaml",
        artefacts=report_inputs(),
    output:
        pdf="results/paper.pdf",
        latex="results/paper/main.tex",
    log:
        "logs/paper.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv paper --summary {input.summary} --config {input.config}"
        " --tables results/tables --figures results/figures --pdf {output.pdf}"
        " --latex-dir results/paper > {log} 2>&1"
