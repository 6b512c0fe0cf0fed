# Biscione & Bowers: learn new objects at one canvas location, test them everywhere;
# one job per architecture x border x pretraining condition x seed.


rule online_invariance_train:
    output:
        run="results/online_invariance/runs/{arch}/{border}/{condition}/seed{seed}.json",
    log:
        "logs/online_invariance/{arch}/{border}/{condition}/seed{seed}.log",
    benchmark:
        "results/benchmarks/online_invariance/{arch}/{border}/{condition}/seed{seed}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpus("online_invariance"),
        mem_mb=online_invariance_mem_mb,
        runtime=minutes_per_attempt(30),
    params:
        settings=job_settings("online_invariance"),
        code=code("online_invariance"),
        runtime=runtime_flags(),
        checkpoints="results/checkpoints/online_invariance/{arch}/{border}/{condition}/seed{seed}",
    message:
        "Online invariance: {wildcards.arch} {wildcards.border}, {wildcards.condition},"
        " seed {wildcards.seed}"
    shell:
        "transinv online-invariance --arch {wildcards.arch} --border {wildcards.border}"
        " --condition {wildcards.condition} --seed {wildcards.seed}"
        " --settings {params.settings:q} --checkpoint-dir {params.checkpoints}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"


rule online_invariance_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/online_invariance.pdf",
        png=report(
            "results/figures/online_invariance.png",
            caption="../../report/online_invariance.rst",
            category="Online translation invariance",
        ),
    log:
        "logs/figures/online_invariance.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure online-invariance --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule invariance_by_layer_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/invariance_by_layer.pdf",
        png=report(
            "results/figures/invariance_by_layer.png",
            caption="../../report/invariance_by_layer.rst",
            category="Online translation invariance",
        ),
    log:
        "logs/figures/invariance_by_layer.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure invariance-by-layer --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
