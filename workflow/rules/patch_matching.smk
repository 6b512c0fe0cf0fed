# Exp 4b, patch matching (PROTOCOLS §7): one job per variant x triplet count x seed trains
# HardNet with the authors' recipe on one PhotoTour set and measures FPR95 on the others.
# Its table and the two-panel figure are drawn in data_efficiency.smk.


# The stand-in for PhotoTour when patch_matching.data_root is null: patches around
# corners of scikit-image photographs and warped second views, written in PhotoTour's
# published layout (bmp sheets, info.txt, m50 pair list), read by the same loader.
rule patch_matching_standin:
    output:
        sets=directory("resources/phototour_standin"),
    log:
        "logs/patch_matching/standin.log",
    conda:
        CONDA_ENV
    params:
        settings=patch_matching_standin_settings(),
        code=module_code("transinv.datasets.phototour_standin"),
    message:
        "Exp 4b: writing the photograph-patch stand-in (PhotoTour layout)"
    shell:
        "transinv patch-matching-standin --settings {params.settings:q}"
        " --output {output.sets} > {log} 2>&1"


# A real dataset is checked (every set's sheets, info.txt and pair list) once, before
# any training starts. The folder is not an input: a plan (`-n`) works without it.
rule patch_matching_dataset:
    input:
        fetched=dataset_markers(PATCH_MATCHING.data_root),
    output:
        manifest="results/patch_matching/dataset.json",
    log:
        "logs/patch_matching/dataset.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        root=PATCH_MATCHING.data_root,
        settings=job_settings("patch_matching"),
    message:
        "Exp 4b: checking the PhotoTour sets at {params.root}"
    shell:
        "transinv patch-matching-dataset --data-root {params.root:q}"
        " --settings {params.settings:q} --output {output.manifest} > {log} 2>&1"


rule patch_matching_train:
    input:
        data=patch_matching_data(),
    output:
        run="results/patch_matching/runs/{variant}/triplets{n_triplets}/seed{seed}.json",
    log:
        "logs/patch_matching/{variant}/triplets{n_triplets}/seed{seed}.log",
    benchmark:
        "results/benchmarks/patch_matching/{variant}/triplets{n_triplets}/seed{seed}.tsv"
    wildcard_constraints:
        variant="s_conv|f_conv",
        n_triplets=r"\d+",
    priority: patch_matching_priority
    conda:
        CONDA_ENV
    resources:
        gpu=gpus("patch_matching"),
        mem_mb=patch_matching_mem_mb,
        runtime=patch_matching_runtime,
    params:
        settings=job_settings("patch_matching"),
        code=code("patch_matching"),
        runtime=runtime_flags(),
        data=patch_matching_data_flags(),
        checkpoint="results/checkpoints/patch_matching/{variant}/triplets{n_triplets}/seed{seed}.pt",
        cadence=checkpoint_flags(),
    message:
        "Exp 4b: training HardNet {wildcards.variant} on {wildcards.n_triplets} triplets,"
        " seed {wildcards.seed}"
    shell:
        "transinv patch-matching --variant {wildcards.variant}"
        " --triplets {wildcards.n_triplets} --seed {wildcards.seed}"
        " {params.data} --settings {params.settings:q} --checkpoint {params.checkpoint}"
        " {params.cadence}"
        " --threads {threads} {params.runtime} --output {output.run} > {log} 2>&1"
