# Wolf's LeNet illustration, generalised: one small training per border type x seed on
# real MNIST digits, then each layer's equivariance error under integer shifts.


rule equivariance_train:
    output:
        run="results/equivariance/runs/{border}/seed{seed}.json",
        maps="results/equivariance/maps/{border}/seed{seed}.csv",
    log:
        "logs/equivariance/{border}/seed{seed}.log",
    benchmark:
        "results/benchmarks/equivariance/{border}/seed{seed}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=0,
        mem_mb=1500,
        runtime=minutes_per_attempt(20),
    params:
        settings=job_settings("equivariance"),
        code=code("equivariance"),
        runtime=runtime_flags(on_gpu=False),
        checkpoint="results/checkpoints/equivariance/{border}/seed{seed}.pt",
    message:
        "Equivariance: training Wolf's LeNet with {wildcards.border}, seed {wildcards.seed}"
    shell:
        "transinv equivariance --border {wildcards.border} --seed {wildcards.seed}"
        " --settings {params.settings:q} --checkpoint {params.checkpoint}"
        " --threads {threads} {params.runtime} --maps {output.maps}"
        " --output {output.run} > {log} 2>&1"


rule equivariance_maps_figure:
    input:
        maps=equivariance_maps(),
    output:
        pdf="results/figures/equivariance_maps.pdf",
        png=report(
            "results/figures/equivariance_maps.png",
            caption="../../report/equivariance_maps.rst",
            category="Translation equivariance",
        ),
    log:
        "logs/figures/equivariance_maps.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure equivariance-maps --input {input.maps}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule equivariance_error_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/equivariance_error.pdf",
        png=report(
            "results/figures/equivariance_error.png",
            caption="../../report/equivariance_error.rst",
            category="Translation equivariance",
        ),
    log:
        "logs/figures/equivariance_error.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure equivariance-error --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
