# Exp 3, sensitivity to image shifts (PROTOCOLS §5): one job per protocol x architecture
# x variant x seed trains a ResNet with the authors' ImageNet recipe (on one process, or
# one per GPU through torchrun) and measures top-1, diagonal shift and consistency.


# The stand-in for ImageNet-200 when shift.data_root is null: photograph tiles written
# in the ImageNet layout, so that the jobs read it through the same loader.
rule shift_standin:
    output:
        images=directory("resources/shift_standin"),
    log:
        "logs/shift/standin.log",
    conda:
        CONDA_ENV
    params:
        settings=shift_standin_settings(),
        code=module_code("transinv.datasets.photo_tiles"),
    message:
        "Exp 3: writing the photograph stand-in (ImageNet layout)"
    shell:
        "transinv shift-standin --settings {params.settings:q}"
        " --output {output.images} > {log} 2>&1"


# A real dataset is checked (layout, class subset) and described once, before any
# training starts, so that a wrong path fails in seconds and says where to put the data.
# The folder is not an input: a plan (`-n`) must work before the data is in place.
rule shift_dataset:
    input:
        fetched=dataset_markers(SHIFT.data_root),
        subset=shift_subset_file(),
    output:
        manifest="results/shift/dataset.json",
    log:
        "logs/shift/dataset.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        root=SHIFT.data_root,
        subset=shift_subset_flag(),
    message:
        "Exp 3: checking the dataset at {params.root}"
    shell:
        "transinv shift-dataset --data-root {params.root:q} {params.subset}"
        " --output {output.manifest} > {log} 2>&1"


rule shift_train:
    input:
        data=shift_data(),
    output:
        run="results/shift/runs/{protocol}/{arch}/{variant}/seed{seed}.json",
    log:
        "logs/shift/{protocol}/{arch}/{variant}/seed{seed}.log",
    benchmark:
        "results/benchmarks/shift/{protocol}/{arch}/{variant}/seed{seed}.tsv"
    wildcard_constraints:
        protocol="faithful|corrected",
        arch="resnet18|resnet34|resnet50|resnet101",
        variant="s_conv|f_conv|s_blur3|f_blur3",
    priority: shift_priority
    conda:
        CONDA_ENV
    threads: classifier_threads("shift")
    resources:
        gpu=gpus("shift"),
        nodes=config["runtime"]["nodes"]["shift"],
        mem_mb=classifier_mem_mb("shift"),
        runtime=shift_runtime,
    params:
        settings=job_settings("shift"),
        code=code("shift"),
        runtime=runtime_flags(),
        loading=loading_flags(),
        data=shift_data_flags(),
        processes=classifier_processes("shift"),
        checkpoint="results/checkpoints/shift/{protocol}/{arch}/{variant}/seed{seed}.pt",
    message:
        "Exp 3: training {wildcards.arch} {wildcards.variant}, {wildcards.protocol} protocol,"
        " seed {wildcards.seed}"
    shell:
        "transinv shift --protocol {wildcards.protocol} --arch {wildcards.arch}"
        " --variant {wildcards.variant} --seed {wildcards.seed}"
        " {params.data} --settings {params.settings:q}"
        " --checkpoint {params.checkpoint} --processes {params.processes}"
        " --threads 1 {params.runtime} {params.loading}"
        " --output {output.run} > {log} 2>&1"


# Tables and figure read a summary of the Exp 3 runs alone, so they can be drawn
# before the other experiments finish.
rule shift_summary:
    input:
        records=shift_runs(),
    output:
        summary="results/shift/summary.csv",
    log:
        "logs/shift/summary.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv summary {input.records} --output {output.summary} > {log} 2>&1"


rule shift_diagonal_table:
    input:
        summary="results/shift/summary.csv",
    output:
        tex="results/tables/shift_diagonal.tex",
        csv=report(
            "results/tables/shift_diagonal.csv",
            caption="../../report/shift_diagonal.rst",
            category="Exp 3: image shifts",
            labels={"artefact": "diagonal-shift table"},
        ),
    log:
        "logs/tables/shift_diagonal.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv table shift-diagonal --summary {input.summary}"
        " --tex {output.tex} --csv {output.csv} > {log} 2>&1"


rule shift_consistency_table:
    input:
        summary="results/shift/summary.csv",
    output:
        tex="results/tables/shift_consistency.tex",
        csv=report(
            "results/tables/shift_consistency.csv",
            caption="../../report/shift_consistency.rst",
            category="Exp 3: image shifts",
            labels={"artefact": "consistency table"},
        ),
    log:
        "logs/tables/shift_consistency.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv table shift-consistency --summary {input.summary}"
        " --tex {output.tex} --csv {output.csv} > {log} 2>&1"


rule shift_curve_figure:
    input:
        summary="results/shift/summary.csv",
    output:
        pdf="results/figures/shift_curve.pdf",
        png=report(
            "results/figures/shift_curve.png",
            caption="../../report/shift_curve.rst",
            category="Exp 3: image shifts",
            labels={"artefact": "figure"},
        ),
    log:
        "logs/figures/shift_curve.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure shift-curve --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
