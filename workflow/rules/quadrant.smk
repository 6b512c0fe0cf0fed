# Quadrant (paper 4QI figure): how far from the image border is absolute location usable?
# One job per protocol x architecture x init x border; the border is in pixels per side.


rule quadrant_train:
    input:
        images=quadrant_images(),
        weights=quadrant_weights,
    output:
        run="results/quadrant/runs/{protocol}/{arch}/{init}/border{border_px}.json",
    log:
        "logs/quadrant/{protocol}/{arch}/{init}/border{border_px}.log",
    benchmark:
        "results/benchmarks/quadrant/{protocol}/{arch}/{init}/border{border_px}.tsv"
    wildcard_constraints:
        protocol="faithful|corrected",
        arch="resnet18|bagnet33|densenet121",
        init="scratch|random_frozen|pretrained_frozen",
        border_px=r"\d+",
    priority: quadrant_priority
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpus("quadrant"),
        mem_mb=quadrant_mem_mb,
        runtime=quadrant_runtime,
    params:
        settings=job_settings("quadrant", "arch", "init"),
        code=code("quadrant"),
        runtime=runtime_flags(),
        weights=quadrant_weights_flag,
        checkpoint="results/checkpoints/quadrant/{protocol}/{arch}/{init}/border{border_px}.pt",
    message:
        "Quadrant: training {wildcards.arch} ({wildcards.init}), border {wildcards.border_px} px,"
        " {wildcards.protocol} protocol"
    shell:
        "transinv quadrant --protocol {wildcards.protocol} --arch {wildcards.arch}"
        " --init {wildcards.init} --border-px {wildcards.border_px}"
        " --settings {params.settings:q} --checkpoint {params.checkpoint} {params.weights}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"


# torchvision's ImageNet weights, fetched once (SHA-256 prefix checked) so that no
# compute node downloads at job time.
rule fetch_weights:
    output:
        weights=f"{WEIGHTS_DIR}/{{arch}}_imagenet.pt",
    log:
        "logs/weights/{arch}.log",
    wildcard_constraints:
        arch="|".join(IMAGENET_WEIGHTS),
    localrule: True
    conda:
        CONDA_ENV
    params:
        mirror=weights_mirror_flag(),
    message:
        "Fetching torchvision's ImageNet weights of {wildcards.arch}"
    shell:
        "transinv fetch-weights --arch {wildcards.arch} {params.mirror}"
        " --output {output.weights} > {log} 2>&1"


# The figure reads a summary of the Quadrant runs alone (the same tidy rows that
# results/summary.csv holds), so it can be drawn before the other experiments finish.
rule quadrant_summary:
    input:
        records=quadrant_runs(),
    output:
        summary="results/quadrant/summary.csv",
    log:
        "logs/quadrant/summary.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv summary {input.records} --output {output.summary} > {log} 2>&1"


rule quadrant_figure:
    input:
        summary="results/quadrant/summary.csv",
    output:
        pdf="results/figures/quadrant.pdf",
        png=report(
            "results/figures/quadrant.png",
            caption="../../report/quadrant.rst",
            category="Quadrant (4QI)",
            labels={"artefact": "figure"},
        ),
    log:
        "logs/figures/quadrant.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure quadrant --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
