# Red-Green (paper Table 1): one job per border type x seed, every protocol at once.


rule red_green_train:
    output:
        run="results/red_green/runs/{border}/seed{seed}.json",
    log:
        "logs/red_green/{border}/seed{seed}.log",
    benchmark:
        "results/benchmarks/red_green/{border}/seed{seed}.tsv"
    priority: red_green_priority
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpus("red_green"),
        mem_mb=1500,
        runtime=minutes_per_attempt(30),
    params:
        settings=job_settings("red_green"),
        code=code("red_green"),
        runtime=runtime_flags(),
        checkpoint="results/checkpoints/red_green/{border}/seed{seed}.pt",
    message:
        "Red-Green: training {wildcards.border}, seed {wildcards.seed}"
    shell:
        "transinv red-green --border {wildcards.border} --seed {wildcards.seed}"
        " --settings {params.settings:q} --checkpoint {params.checkpoint}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"


rule red_green_table:
    input:
        summary="results/summary.csv",
    output:
        tex="results/tables/red_green.tex",
        csv=report(
            "results/tables/red_green.csv",
            caption="../../report/red_green_table.rst",
            category="Red-Green (Table 1)",
            labels={"artefact": "table"},
        ),
    log:
        "logs/tables/red_green.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv table red-green --summary {input.summary}"
        " --tex {output.tex} --csv {output.csv} > {log} 2>&1"


rule red_green_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/red_green.pdf",
        png=report(
            "results/figures/red_green.png",
            caption="../../report/red_green_figure.rst",
            category="Red-Green (Table 1)",
            labels={"artefact": "figure"},
        ),
    log:
        "logs/figures/red_green.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure red-green --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
