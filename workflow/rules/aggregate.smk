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
