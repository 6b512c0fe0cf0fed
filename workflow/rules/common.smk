# Helpers for the workflow (config validation, settings, targets)
import json

from transinv.borders import BORDER_NAMES
from transinv.config import validate_config

validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))

CONDA_ENV = "../../envs/transinv.yaml"
BORDER_PATTERN = "|".join(BORDER_NAMES)


def settings_json(section):
    """One experiment's config section, as the JSON `transinv --settings` takes."""
    return json.dumps(config[section], sort_keys=True)


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


def red_green_runs():
    return expand(
        "results/red_green/runs/{border}/seed{seed}.json",
        border=config["red_green"]["borders"],
        seed=config["red_green"]["seeds"],
    )


def rook_runs():
    return expand("results/rook/runs/{border}.json", border=config["rook"]["borders"])


def all_run_records():
    return red_green_runs() + rook_runs() + ["results/translation_1d/run.json"]


def final_targets():
    figures = ["red_green", "rook", "border_maps", "translation_1d"]
    return (
        ["results/summary.csv", "results/metrics.json"]
        + expand("results/tables/red_green.{ext}", ext=["tex", "csv"])
        + expand("results/figures/{name}.{ext}", name=figures, ext=["pdf", "png"])
    )
