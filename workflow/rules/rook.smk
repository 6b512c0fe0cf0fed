# Rook (paper Fig. 1): can one zero-padded filter tell top-left from bottom-right?
# One 5x5 filter on two 32x32 images: always on the CPU, never asks for a GPU.


rule rook_train:
    output:
        run="results/rook/runs/{border}.json",
    log:
        "logs/rook/{border}.log",
    benchmark:
        "results/benchmarks/rook/{border}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=0,
        mem_mb=1000,
        runtime=minutes_per_attempt(10),
    params:
        settings=job_settings("rook"),
        code=code("rook"),
        runtime=runtime_flags(on_gpu=False),
    message:
        "Rook: training {wildcards.border}, every seed"
    shell:
        "transinv rook --border {wildcards.border} --settings {params.settings:q}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"


rule rook_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/rook.pdf",
        png=report(
            "results/figures/rook.png",
            caption="../../report/rook.rst",
            category="Rook (Fig. 1)",
        ),
    log:
        "logs/figures/rook.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure rook --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule border_maps:
    output:
        maps="results/border_maps/maps.json",
    log:
        "logs/border_maps/compute.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv border-maps --output {output.maps} > {log} 2>&1"


rule border_maps_figure:
    input:
        maps="results/border_maps/maps.json",
    output:
        pdf="results/figures/border_maps.pdf",
        png=report(
            "results/figures/border_maps.png",
            caption="../../report/border_maps.rst",
            category="Border handling",
        ),
    log:
        "logs/figures/border_maps.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure border-maps --input {input.maps}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
