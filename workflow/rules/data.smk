# Datasets: download an archive, check its pinned SHA-256, extract it safely.


rule fetch_dataset:
    output:
        marker="resources/datasets/{dataset}/.complete",
    log:
        "logs/datasets/{dataset}.log",
    wildcard_constraints:
        dataset=r"[A-Za-z0-9_.-]+",
    localrule: True
    conda:
        CONDA_ENV
    params:
        url=dataset_url,
        sha256=dataset_sha256,
        target="resources/datasets/{dataset}",
    message:
        "Fetching dataset {wildcards.dataset}"
    shell:
        "transinv fetch --url {params.url:q} --sha256 {params.sha256}"
        " --target {params.target} --downloads resources/downloads > {log} 2>&1"
