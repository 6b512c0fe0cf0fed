# McGreivy & Hakim: convolution + ReLU is equivariant to integer shifts, not to
# continuous translation; in 1D (analytic), on images (LeNet layers under Fourier
# shifts) and in a CNN PDE solver (advection). Small, CPU-only jobs.


rule translation_1d:
    output:
        sweep="results/translation_1d/sweep.csv",
        run="results/translation_1d/run.json",
    log:
        "logs/translation_1d/sweep.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        settings=job_settings("translation_1d"),
        code=code("translation_1d"),
    shell:
        "transinv translation-1d --settings {params.settings:q}"
        " --sweep {output.sweep} --output {output.run} > {log} 2>&1"


rule translation_1d_figure:
    input:
        sweep="results/translation_1d/sweep.csv",
    output:
        pdf="results/figures/translation_1d.pdf",
        png=report(
            "results/figures/translation_1d.png",
            caption="../../report/translation_1d.rst",
            category="Translation equivariance",
        ),
    log:
        "logs/figures/translation_1d.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure translation-1d --input {input.sweep}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule continuous_shift:
    output:
        run="results/continuous_shift/runs/{border}.json",
    log:
        "logs/continuous_shift/{border}.log",
    benchmark:
        "results/benchmarks/continuous_shift/{border}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=0,
        mem_mb=1500,
        runtime=minutes_per_attempt(10),
    params:
        settings=job_settings("continuous_shift"),
        code=code("continuous_shift"),
        runtime=runtime_flags(on_gpu=False),
    message:
        "Continuous shift: LeNet layers with {wildcards.border} under sub-pixel translations"
    shell:
        "transinv continuous-shift --border {wildcards.border} --settings {params.settings:q}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"


rule continuous_shift_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/continuous_shift.pdf",
        png=report(
            "results/figures/continuous_shift.png",
            caption="../../report/continuous_shift.rst",
            category="Translation equivariance",
        ),
    log:
        "logs/figures/continuous_shift.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure continuous-shift --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule advection:
    output:
        run="results/advection/runs/{border}.json",
    log:
        "logs/advection/{border}.log",
    benchmark:
        "results/benchmarks/advection/{border}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=0,
        mem_mb=1000,
        runtime=minutes_per_attempt(10),
    params:
        settings=job_settings("advection"),
        code=code("advection"),
        runtime=runtime_flags(on_gpu=False),
    message:
        "Advection: CNN time-steppers with a {wildcards.border} boundary"
    shell:
        "transinv advection --border {wildcards.border} --settings {params.settings:q}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"


rule advection_figure:
    input:
        summary="results/summary.csv",
    output:
        pdf="results/figures/advection.pdf",
        png=report(
            "results/figures/advection.png",
            caption="../../report/advection.rst",
            category="Translation equivariance",
        ),
    log:
        "logs/figures/advection.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure advection --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
