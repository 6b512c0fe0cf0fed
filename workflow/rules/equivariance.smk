# McGreivy & Hakim: convolution + ReLU is not equivariant to sub-pixel translation.


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
