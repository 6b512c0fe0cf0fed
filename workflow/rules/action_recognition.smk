# Exp 5, action recognition from scratch (PROTOCOLS §8): one job per dataset x protocol
# x depth x variant x seed trains a 3D ResNet on the clips of a decoded-frame cache and
# tests it on the official test split (clip and video accuracy).


# The stand-in for UCF101 when action_recognition.ucf101_root is null: .avi videos of
# pans, zooms and rotations over public-domain/CC0 photographs, written by PyAV in
# UCF101's layout with its list files, read by the same reader as the real data.
rule action_standin:
    output:
        videos=directory("resources/action_standin"),
    log:
        "logs/action_recognition/standin.log",
    conda:
        CONDA_ENV
    params:
        settings=action_standin_settings(),
        code=module_code("transinv.datasets.video_standin"),
    message:
        "Exp 5: writing the generated motion-video stand-in (UCF101 layout)"
    shell:
        "transinv action-standin --settings {params.settings:q}"
        " --output {output.videos} > {log} 2>&1"


# A real dataset is checked (split lists, every video they name) once, before any
# frame is decoded. The folder is not an input: a plan (`-n`) works without it.
rule action_dataset:
    input:
        fetched=action_dataset_markers,
    output:
        manifest="results/action_recognition/{dataset}/dataset.json",
    log:
        "logs/action_recognition/{dataset}/dataset.log",
    wildcard_constraints:
        dataset="ucf101|hmdb51",
    localrule: True
    conda:
        CONDA_ENV
    params:
        root=action_root,
        settings=job_settings("action_recognition", "dataset"),
    message:
        "Exp 5: checking {wildcards.dataset} at {params.root}"
    shell:
        "transinv action-dataset --dataset {wildcards.dataset} --data-root {params.root:q}"
        " --settings {params.settings:q} --output {output.manifest} > {log} 2>&1"


# Every video of the split decoded once into JPEG frames (short side as the authors'
# ffmpeg step): trainings read frames, never videos. The frames are not the declared
# output (Snakemake would delete them before a rerun): the manifest is, written last, so
# a killed job continues where it stopped; the cache records its source and is emptied
# when the videos or the frame size change.
rule action_frames:
    input:
        data=action_data,
    output:
        manifest="resources/action_frames/{dataset}/manifest.json",
    log:
        "logs/action_recognition/{dataset}/frames.log",
    wildcard_constraints:
        dataset="ucf101|hmdb51",
    conda:
        CONDA_ENV
    resources:
        runtime=minutes_per_attempt(240),
    params:
        settings=action_frame_settings(),
        code=module_code("transinv.datasets.video_decode"),
        root=action_root,
    message:
        "Exp 5: decoding the {wildcards.dataset} videos into frames"
    shell:
        "transinv action-frames --dataset {wildcards.dataset} --data-root {params.root:q}"
        " --frames resources/action_frames/{wildcards.dataset}"
        " --settings {params.settings:q} --output {output.manifest} > {log} 2>&1"


rule action_recognition_train:
    input:
        frames="resources/action_frames/{dataset}/manifest.json",
    output:
        run="results/action_recognition/runs/{dataset}/{protocol}/rn{depth}/{variant}/seed{seed}.json",
    log:
        "logs/action_recognition/{dataset}/{protocol}/rn{depth}/{variant}/seed{seed}.log",
    benchmark:
        "results/benchmarks/action_recognition/{dataset}/{protocol}/rn{depth}/{variant}/seed{seed}.tsv"
    wildcard_constraints:
        dataset="ucf101|hmdb51",
        protocol="faithful|corrected",
        depth="18|34|50",
        variant="s_conv|f_conv|f_conv_temporal",
    priority: action_priority
    conda:
        CONDA_ENV
    threads: classifier_threads("action_recognition")
    resources:
        gpu=gpus("action_recognition"),
        mem_mb=action_mem_mb,
        runtime=action_runtime,
    params:
        settings=job_settings("action_recognition", "dataset", "protocol"),
        code=code("action_recognition"),
        runtime=runtime_flags(),
        loading=loading_flags(),
        data=action_data_flags,
        processes=classifier_processes("action_recognition"),
        checkpoint="results/checkpoints/action_recognition/{dataset}/{protocol}/rn{depth}/{variant}/seed{seed}.pt",
    message:
        "Exp 5: training 3D ResNet-{wildcards.depth} {wildcards.variant} on"
        " {wildcards.dataset}, {wildcards.protocol} protocol, seed {wildcards.seed}"
    shell:
        "transinv action-recognition --dataset {wildcards.dataset}"
        " --protocol {wildcards.protocol} --depth {wildcards.depth}"
        " --variant {wildcards.variant} --seed {wildcards.seed} {params.data}"
        " --frames resources/action_frames/{wildcards.dataset} --settings {params.settings:q}"
        " --checkpoint {params.checkpoint} --processes {params.processes}"
        " --threads 1 {params.runtime} {params.loading}"
        " --output {output.run} > {log} 2>&1"


# Table and figure read a summary of the Exp 5 runs alone, so they can be drawn before
# the other experiments finish.
rule action_recognition_summary:
    input:
        records=action_recognition_runs(),
    output:
        summary="results/action_recognition/summary.csv",
    log:
        "logs/action_recognition/summary.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv summary {input.records} --output {output.summary} > {log} 2>&1"


rule action_recognition_table:
    input:
        summary="results/action_recognition/summary.csv",
    output:
        tex="results/tables/action_recognition.tex",
        csv=report(
            "results/tables/action_recognition.csv",
            caption="../../report/action_recognition_table.rst",
            category="Exp 5: action recognition",
            labels={"artefact": "table"},
        ),
    log:
        "logs/tables/action_recognition.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv table action-recognition --summary {input.summary}"
        " --tex {output.tex} --csv {output.csv} > {log} 2>&1"


rule action_training_curves_figure:
    input:
        summary="results/action_recognition/summary.csv",
    output:
        pdf="results/figures/action_training_curves.pdf",
        png=report(
            "results/figures/action_training_curves.png",
            caption="../../report/action_training_curves.rst",
            category="Exp 5: action recognition",
            labels={"artefact": "training curves"},
        ),
    log:
        "logs/figures/action_training_curves.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "transinv figure action-training-curves --input {input.summary}"
        " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
