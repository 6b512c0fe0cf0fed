# Helpers for the workflow (config validation, settings, targets)
import json
from pathlib import Path

from snakemake.logging import logger

from transinv.borders import BORDER_NAMES
from transinv.config import validate_config
from transinv.experiments import quadrant, quadrant_budget, red_green
from transinv.settings import GRID_FIELDS, QuadrantSettings, RedGreenSettings, from_mapping

validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
DATASETS_DIR = "resources/datasets"


def fetched_dataset(path):
    """The configured dataset a path lies in (it will be fetched), or None."""
    if path is None:
        return None
    inside = (
        Path(path).relative_to(DATASETS_DIR) if Path(path).is_relative_to(DATASETS_DIR) else None
    )
    if inside is not None and inside.parts and inside.parts[0] in config["datasets"]:
        return inside.parts[0]
    return None


def dataset_markers(path):
    """Input: the marker of the fetched dataset `path` lies in (nothing otherwise)."""
    name = fetched_dataset(path)
    return [] if name is None else [f"{DATASETS_DIR}/{name}/.complete"]


def dataset_url(wildcards):
    return config["datasets"][wildcards.dataset]["url"]


def dataset_sha256(wildcards):
    return config["datasets"][wildcards.dataset]["sha256"]


QUADRANT = from_mapping(QuadrantSettings, config["quadrant"])
quadrant.check_inputs(QUADRANT, image_root_fetched=fetched_dataset(QUADRANT.image_root) is not None)
for arch in quadrant.left_out(QUADRANT):
    logger.warning(
        f"quadrant: quadrant.pretrained_weights.{arch} is null, so {arch}'s pretrained_frozen"
        " runs are left out; give the path of a 1000-class state dict to include them"
    )

CONDA_ENV = "../../envs/transinv.yaml"
BORDER_PATTERN = "|".join(BORDER_NAMES)


def run_settings_json(section, keep=()):
    """A section without its grid fields, except those in `keep` that one job loops
    over itself: what one job depends on.

    Growing the grid (another border, seed, ...) then leaves finished jobs' params, and
    so the jobs, untouched.
    """
    dropped = GRID_FIELDS - set(keep)
    values = {k: v for k, v in config[section].items() if k not in dropped}
    return json.dumps(values, sort_keys=True)


def runtime_flags():
    """CLI flags for the runtime section (device, AMP, memory format)."""
    runtime = config["runtime"]
    flags = [f"--device {runtime['device']}"]
    if runtime["amp"]:
        flags.append("--amp")
    if runtime["channels_last"]:
        flags.append("--channels-last")
    return " ".join(flags)


def training_gpus():
    """The portable `gpu` resource of every training rule."""
    return config["runtime"]["gpus_per_training_job"]


def minutes_per_attempt(minutes):
    """A `runtime` resource that doubles on every retry: a job killed at its time
    limit resumes from its checkpoint with more time, instead of dying again."""

    def runtime(wildcards, attempt):
        return minutes * 2 ** (attempt - 1)

    return runtime


def red_green_runs():
    return expand(
        "results/red_green/runs/{border}/seed{seed}.json",
        border=config["red_green"]["borders"],
        seed=config["red_green"]["seeds"],
    )


def rook_runs():
    return expand("results/rook/runs/{border}.json", border=config["rook"]["borders"])


def quadrant_runs():
    skipped = set(quadrant.left_out(QUADRANT))
    return [
        f"results/quadrant/runs/{protocol}/{arch}/{init}/border{border_px}.json"
        for protocol in QUADRANT.protocols
        for arch in QUADRANT.architectures
        for init in QUADRANT.inits
        for border_px in QUADRANT.borders
        if not (init == quadrant.PRETRAINED_INIT and arch in skipped)
    ]


def quadrant_on_gpu():
    runtime = config["runtime"]
    if runtime["device"] == "auto":
        return runtime["gpus_per_training_job"] > 0
    return runtime["device"].startswith("cuda")


def quadrant_mem_mb(wildcards):
    """Memory of one Quadrant job: on CPU it grows with the framed canvas (activations)."""
    return quadrant_budget.memory_mb(
        wildcards.arch, int(wildcards.border_px), wildcards.protocol, QUADRANT, quadrant_on_gpu()
    )


# Longest jobs first: among the jobs ready to run, Snakemake starts the one of highest
# priority. Each training job's priority is its expected compute seconds, so the long
# trainings start early and the short ones fill the cores at the end of the run,
# instead of one long job running alone while the other cores idle.
RED_GREEN = from_mapping(RedGreenSettings, config["red_green"])


def red_green_priority(wildcards):
    return round(red_green.expected_seconds(wildcards.border, RED_GREEN))


def quadrant_priority(wildcards):
    return round(
        quadrant_budget.expected_seconds(
            wildcards.arch, int(wildcards.border_px), wildcards.init, QUADRANT, quadrant_on_gpu()
        )
    )


def quadrant_runtime(wildcards, attempt):
    """Minutes for one Quadrant job at the epoch cap: grows with the framed canvas, and
    doubles on every retry as `minutes_per_attempt` does."""
    minutes = quadrant_budget.runtime_minutes(
        wildcards.arch, int(wildcards.border_px), wildcards.init, QUADRANT, quadrant_on_gpu()
    )
    return minutes * 2 ** (attempt - 1)


def all_run_records():
    return red_green_runs() + rook_runs() + ["results/translation_1d/run.json"] + quadrant_runs()


def final_targets():
    figures = ["red_green", "rook", "border_maps", "translation_1d", "quadrant"]
    return (
        ["results/summary.csv", "results/metrics.json"]
        + expand("results/tables/red_green.{ext}", ext=["tex", "csv"])
        + expand("results/figures/{name}.{ext}", name=figures, ext=["pdf", "png"])
    )
