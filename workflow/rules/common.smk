# Helpers for the workflow (config validation, settings, identity, targets)
import json
import sys
from pathlib import Path

from snakemake.logging import logger

# The workflow and its jobs run the package beside this Snakefile, whatever else is
# installed: the code fingerprints below hash the very files the jobs execute, and a
# conda environment (`--sdm conda`, envs/transinv.yaml) needs only the dependencies.
SOURCE_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SOURCE_DIR)
# (Snakemake formats the prefix like a shell command: literal braces are doubled.)
shell.prefix(
    "set -euo pipefail; "
    f"export PYTHONPATH={SOURCE_DIR}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
    'transinv() {{ python -m transinv "$@"; }}; '
)

from transinv.borders import BORDER_NAMES
from transinv.config import validate_config
from transinv.datasets import PACKAGED_SUBSETS
from transinv.experiments import (
    action_recognition_budget,
    data_efficiency_budget,
    quadrant,
    quadrant_budget,
    red_green,
    shift_budget,
)
from transinv.experiments.action_recognition_settings import ActionRecognitionSettings
from transinv.experiments.advection_settings import AdvectionSettings
from transinv.experiments.continuous_shift_settings import ContinuousShiftSettings
from transinv.experiments.equivariance_settings import EquivarianceSettings
from transinv.experiments.online_invariance_settings import OnlineInvarianceSettings
from transinv.experiments.data_efficiency_settings import (
    DataEfficiencySettings,
    PatchMatchingSettings,
)
from transinv.experiments.shift_variants import VARIANTS
from transinv.identity import code_fingerprint, experiment_fingerprint
from transinv.models.pretrained import IMAGENET_WEIGHTS
from transinv.models.registry import IMAGENET
from transinv.settings import (
    QuadrantSettings,
    RedGreenSettings,
    RookSettings,
    ShiftSettings,
    Translation1DSettings,
    from_mapping,
    job_settings_json,
)

validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
DATASETS_DIR = "resources/datasets"
WEIGHTS_DIR = "resources/weights"


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


RED_GREEN = from_mapping(RedGreenSettings, config["red_green"])
ROOK = from_mapping(RookSettings, config["rook"])
TRANSLATION_1D = from_mapping(Translation1DSettings, config["translation_1d"])
QUADRANT = from_mapping(QuadrantSettings, config["quadrant"])
SHIFT = from_mapping(ShiftSettings, config["shift"])
DATA_EFFICIENCY = from_mapping(DataEfficiencySettings, config["data_efficiency"])
PATCH_MATCHING = from_mapping(PatchMatchingSettings, config["patch_matching"])
ACTION_RECOGNITION = from_mapping(ActionRecognitionSettings, config["action_recognition"])
EQUIVARIANCE = from_mapping(EquivarianceSettings, config["equivariance"])
CONTINUOUS_SHIFT = from_mapping(ContinuousShiftSettings, config["continuous_shift"])
ADVECTION = from_mapping(AdvectionSettings, config["advection"])
ONLINE_INVARIANCE = from_mapping(OnlineInvarianceSettings, config["online_invariance"])
SECTIONS = {
    "red_green": RED_GREEN,
    "rook": ROOK,
    "translation_1d": TRANSLATION_1D,
    "quadrant": QUADRANT,
    "shift": SHIFT,
    "data_efficiency": DATA_EFFICIENCY,
    "patch_matching": PATCH_MATCHING,
    "action_recognition": ACTION_RECOGNITION,
    "equivariance": EQUIVARIANCE,
    "continuous_shift": CONTINUOUS_SHIFT,
    "advection": ADVECTION,
    "online_invariance": ONLINE_INVARIANCE,
}
#: The experiments this run includes (config `experiments`); the others plan no job.
INCLUDED = set(config["experiments"])


def check_online_invariance(settings):
    """Refuse a training location off the heat-map's grid before any job starts."""
    size = settings.grid_size
    if not all(0 <= cell < size for cell in settings.train_cell):
        raise ValueError(
            f"online_invariance.train_cell {list(settings.train_cell)} lies outside the "
            f"{size}x{size} grid of locations: give a (column, row) in 0..{size - 1}"
        )


if "action_recognition" in INCLUDED:
    ACTION_RECOGNITION.check_roots()
if "online_invariance" in INCLUDED:
    check_online_invariance(ONLINE_INVARIANCE)
if "quadrant" in INCLUDED:
    quadrant.check_inputs(
        QUADRANT, image_root_fetched=fetched_dataset(QUADRANT.image_root) is not None
    )
    for arch in quadrant.left_out(QUADRANT):
        logger.warning(
            f"quadrant: quadrant.pretrained_weights.{arch} is null, so {arch}'s pretrained_frozen"
            " runs are left out; give the path of a 1000-class state dict to include them"
        )

CONDA_ENV = "../../envs/transinv.yaml"
BORDER_PATTERN = "|".join(BORDER_NAMES)


def code(experiment):
    """Param: the fingerprint of the code one experiment's jobs run (transinv.identity).
    Editing that code reruns them; editing another experiment's code does not."""
    return experiment_fingerprint(experiment)


def module_code(module):
    """Param: the fingerprint of one module's code, for a rule that runs no experiment
    (a data generator): editing the experiment that reads its output does not remake it."""
    return code_fingerprint(module)


def job_settings(section, *wildcard_names):
    """Param: what one job depends on (transinv.settings.Section.for_job), the same
    JSON the job hashes into its identity. Growing the grid leaves it unchanged."""

    def param(wildcards):
        job = {name: wildcards[name] for name in wildcard_names}
        return job_settings_json(SECTIONS[section], **job)

    return param


def runtime_flags(on_gpu=True):
    """CLI flags for the runtime section: device, precision, memory format. They are
    params, so switching any of them reruns the jobs (all three change the numbers).
    A rule that never asks for a GPU runs on the CPU whatever the device setting."""
    runtime = config["runtime"]
    flags = [f"--device {runtime['device'] if on_gpu else 'cpu'}"]
    if runtime["amp"] and on_gpu:
        flags.append(f"--amp {runtime['amp']}")
    if runtime["channels_last"]:
        flags.append("--channels-last")
    return " ".join(flags)


def gpus(experiment):
    """The portable `gpu` resource of one experiment's training jobs."""
    return config["runtime"]["gpus"][experiment]


class HowItRuns:
    """A param that says how a job runs (data loading, checkpoint cadence), never what it
    computes. Snakemake's params rerun trigger leaves out values that are not plain
    Python data, so changing one reruns nothing; the shell command formats it as text."""

    def __init__(self, flags):
        self.flags = flags

    def __str__(self):
        return self.flags


def loading_flags():
    """Param: the classification trainer's data loading and checkpoint cadence (no result
    depends on them: changing them reruns nothing)."""
    runtime = config["runtime"]
    loading = runtime["data_loading"]
    flags = [f"--workers {loading['workers']}"]
    if loading["pin_memory"]:
        flags.append("--pin-memory")
    if loading["persistent_workers"] and loading["workers"] > 0:
        flags.append("--persistent-workers")
    flags.append(f"--checkpoint-minutes {runtime['checkpoint_minutes']}")
    return HowItRuns(" ".join(flags))


def checkpoint_flags():
    """Param: the checkpoint cadence of a trainer without data loaders (reruns nothing)."""
    return HowItRuns(f"--checkpoint-minutes {config['runtime']['checkpoint_minutes']}")


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
        return gpus("quadrant") > 0
    return runtime["device"].startswith("cuda")


def imagenet_weights_file(arch):
    return f"{WEIGHTS_DIR}/{arch}_imagenet.pt"


def quadrant_weights(wildcards):
    """Input: the state dict a pretrained_frozen job starts from (fetched or the user's)."""
    if wildcards.init != quadrant.PRETRAINED_INIT:
        return []
    weights = QUADRANT.pretrained_weights[wildcards.arch]
    return imagenet_weights_file(wildcards.arch) if weights == IMAGENET else weights


def weights_mirror_flag():
    mirror = config["weights_mirror"]
    return "" if mirror is None else f"--mirror {mirror}"


def quadrant_weights_flag(wildcards, input):
    return f"--weights-file {input.weights}" if input.weights else ""


def quadrant_images():
    """Input: the user's image folder (a fetched one is covered by its marker)."""
    root = QUADRANT.image_root
    if root is None or fetched_dataset(root) is not None:
        return dataset_markers(root)
    return [root]


def quadrant_mem_mb(wildcards):
    """Memory of one Quadrant job: on CPU it grows with the framed canvas (activations)."""
    return quadrant_budget.memory_mb(
        wildcards.arch, int(wildcards.border_px), wildcards.protocol, QUADRANT, quadrant_on_gpu()
    )


# Longest jobs first: among the jobs ready to run, Snakemake starts the one of highest
# priority. Each training job's priority is its expected compute seconds, so the long
# trainings start early and the short ones fill the cores at the end of the run,
# instead of one long job running alone while the other cores idle.


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


SHIFT_STANDIN_DIR = "resources/shift_standin"
SHIFT_MANIFEST = "results/shift/dataset.json"


def shift_runs():
    return expand(
        "results/shift/runs/{protocol}/{arch}/{variant}/seed{seed}.json",
        protocol=SHIFT.protocols,
        arch=SHIFT.architectures,
        variant=SHIFT.variants,
        seed=SHIFT.seeds,
    )


def shift_standin_settings():
    """Param: the settings the stand-in is made from (and only those)."""
    return json.dumps({key: config["shift"][key] for key in SHIFT_STANDIN_KEYS}, sort_keys=True)


SHIFT_STANDIN_KEYS = (
    "standin_classes",
    "standin_train_per_class",
    "standin_val_per_class",
    "standin_tile_px",
    "data_seed",
)


def shift_data():
    """Input of a training: the stand-in folder, or the checked dataset's manifest."""
    return SHIFT_STANDIN_DIR if SHIFT.data_root is None else SHIFT_MANIFEST


def shift_data_flags():
    """Param: where a training reads its images, and whether they are the stand-in."""
    if SHIFT.data_root is None:
        return f"--data-root {SHIFT_STANDIN_DIR} --stand-in"
    return f"--data-root {SHIFT.data_root}"


def shift_subset_file():
    """Input: a class-subset file of the user's (a packaged list is part of the code)."""
    subset = SHIFT.class_subset
    return [] if subset is None or subset in PACKAGED_SUBSETS else [subset]


def shift_subset_flag():
    subset = SHIFT.class_subset
    return "" if subset is None else f"--class-subset {subset}"


def on_gpu(experiment):
    """Whether an experiment's training jobs run on a GPU."""
    runtime = config["runtime"]
    if runtime["device"] == "auto":
        return gpus(experiment) > 0
    return runtime["device"].startswith("cuda")


def classifier_processes(experiment):
    """Training processes of one classification job on each node: one per GPU, one on a CPU."""
    return max(1, gpus(experiment))


def classifier_threads(experiment):
    """Cores one classification job asks for (SLURM: --cpus-per-task): each training
    process, and its loader workers, which must not starve a GPU. PyTorch itself runs one
    thread per process: the cores are for decoding and augmenting images."""
    workers = config["runtime"]["data_loading"]["workers"]
    return classifier_processes(experiment) * (1 + workers)


def classifier_mem_mb(experiment):
    loading = config["runtime"]["data_loading"]
    return shift_budget.memory_mb(
        on_gpu(experiment), classifier_processes(experiment), loading["workers"]
    )


def shift_variant(wildcards):
    return VARIANTS[wildcards.variant]


def shift_job(wildcards):
    """Arguments of the budget functions for one Exp 3 job."""
    variant = shift_variant(wildcards)
    processes = classifier_processes("shift") * config["runtime"]["nodes"]["shift"]
    return (wildcards.arch, variant.border, variant.blur, SHIFT, on_gpu("shift"), processes)


def shift_priority(wildcards):
    return round(shift_budget.expected_seconds(*shift_job(wildcards)))


def shift_runtime(wildcards, attempt):
    """Minutes for one Exp 3 job, doubled on every retry as `minutes_per_attempt` does."""
    return shift_budget.runtime_minutes(*shift_job(wildcards)) * 2 ** (attempt - 1)


DATA_EFFICIENCY_STANDIN_DIR = "resources/data_efficiency_standin"
PHOTOTOUR_STANDIN_DIR = "resources/phototour_standin"
PATCH_MATCHING_MANIFEST = "results/patch_matching/dataset.json"


def data_efficiency_runs():
    return [
        f"results/data_efficiency/runs/{protocol}/{variant}/{size}/seed{seed}.json"
        for protocol, variant, size, seed in DATA_EFFICIENCY.runs()
    ]


def data_efficiency_standin_settings():
    """Param: the settings the digit stand-in is made from (and only those)."""
    keys = sorted(DataEfficiencySettings.SOURCES | {"data_seed"})
    return json.dumps({key: config["data_efficiency"][key] for key in keys}, sort_keys=True)


def data_efficiency_list_settings():
    """Param: what the image lists are drawn from (and only that)."""
    return json.dumps(DATA_EFFICIENCY.list_settings(), sort_keys=True)


def data_efficiency_data():
    """Input: the stand-in folder; a real dataset is read in place (not an input, so a
    plan works before it is there; its subset jobs check it before any training)."""
    if DATA_EFFICIENCY.data_root is None:
        return DATA_EFFICIENCY_STANDIN_DIR
    return dataset_markers(DATA_EFFICIENCY.data_root)


def data_efficiency_data_flags():
    if DATA_EFFICIENCY.data_root is None:
        return f"--data-root {DATA_EFFICIENCY_STANDIN_DIR} --stand-in"
    return f"--data-root {DATA_EFFICIENCY.data_root}"


def data_efficiency_job(wildcards):
    processes = classifier_processes("data_efficiency")
    processes *= config["runtime"]["nodes"]["data_efficiency"]
    return (
        wildcards.variant,
        wildcards.size,
        DATA_EFFICIENCY,
        on_gpu("data_efficiency"),
        processes,
    )


def data_efficiency_priority(wildcards):
    return round(data_efficiency_budget.classifier_seconds(*data_efficiency_job(wildcards)))


def data_efficiency_runtime(wildcards, attempt):
    minutes = data_efficiency_budget.classifier_minutes(*data_efficiency_job(wildcards))
    return minutes * 2 ** (attempt - 1)


def patch_matching_runs():
    return expand(
        "results/patch_matching/runs/{variant}/triplets{n_triplets}/seed{seed}.json",
        variant=PATCH_MATCHING.variants,
        n_triplets=PATCH_MATCHING.triplet_counts,
        seed=PATCH_MATCHING.seeds,
    )


def patch_matching_standin_settings():
    keys = sorted(PatchMatchingSettings.SOURCES | {"data_seed"})
    return json.dumps({key: config["patch_matching"][key] for key in keys}, sort_keys=True)


def patch_matching_data():
    """Input of a training: the stand-in folder, or the checked dataset's manifest."""
    if PATCH_MATCHING.data_root is None:
        return PHOTOTOUR_STANDIN_DIR
    return PATCH_MATCHING_MANIFEST


def patch_matching_data_flags():
    if PATCH_MATCHING.data_root is None:
        return f"--data-root {PHOTOTOUR_STANDIN_DIR} --stand-in"
    return f"--data-root {PATCH_MATCHING.data_root}"


def patch_matching_job(wildcards):
    variant = VARIANTS[wildcards.variant]
    return (variant.border, int(wildcards.n_triplets), PATCH_MATCHING, on_gpu("patch_matching"))


def patch_matching_priority(wildcards):
    return round(data_efficiency_budget.hardnet_seconds(*patch_matching_job(wildcards)))


def patch_matching_runtime(wildcards, attempt):
    minutes = data_efficiency_budget.hardnet_minutes(*patch_matching_job(wildcards))
    return minutes * 2 ** (attempt - 1)


def patch_matching_mem_mb(wildcards):
    return data_efficiency_budget.hardnet_memory_mb(PATCH_MATCHING, on_gpu("patch_matching"))


ACTION_STANDIN_DIR = "resources/action_standin"
ACTION_FRAMES_DIR = "resources/action_frames"


def action_recognition_runs():
    return [
        f"results/action_recognition/runs/{dataset}/{protocol}/rn{depth}/{variant}/seed{seed}.json"
        for dataset, protocol, depth, variant, seed in ACTION_RECOGNITION.runs()
    ]


def action_standin_settings():
    """Param: the settings the motion stand-in is made from (and only those)."""
    keys = sorted(ActionRecognitionSettings.STANDIN_FIELDS | {"data_seed"})
    return json.dumps({key: config["action_recognition"][key] for key in keys}, sort_keys=True)


def action_frame_settings():
    """Param: what the frame cache is made from (the split and the frame size)."""
    settings = {**ACTION_RECOGNITION.frame_settings(), "split": ACTION_RECOGNITION.split}
    return json.dumps(settings, sort_keys=True)


def action_root(wildcards):
    root = ACTION_RECOGNITION.root(wildcards.dataset)
    return ACTION_STANDIN_DIR if root is None else root


def action_data(wildcards):
    """Input of the frame cache: the stand-in folder, or the checked dataset's manifest."""
    if ACTION_RECOGNITION.root(wildcards.dataset) is None:
        return ACTION_STANDIN_DIR
    return f"results/action_recognition/{wildcards.dataset}/dataset.json"


def action_dataset_markers(wildcards):
    return dataset_markers(ACTION_RECOGNITION.root(wildcards.dataset))


def action_data_flags(wildcards):
    """Param: where a job reads the split lists, and whether they are the stand-in's."""
    flag = " --stand-in" if ACTION_RECOGNITION.root(wildcards.dataset) is None else ""
    return f"--data-root {action_root(wildcards)}{flag}"


def action_job(wildcards):
    return (
        wildcards.dataset,
        int(wildcards.depth),
        wildcards.variant,
        ACTION_RECOGNITION,
        on_gpu("action_recognition"),
    )


def action_priority(wildcards):
    return round(action_recognition_budget.expected_seconds(*action_job(wildcards)))


def action_runtime(wildcards, attempt):
    minutes = action_recognition_budget.runtime_minutes(*action_job(wildcards))
    return minutes * 2 ** (attempt - 1)


def action_mem_mb(wildcards):
    workers = config["runtime"]["data_loading"]["workers"]
    return action_recognition_budget.job_memory_mb(on_gpu("action_recognition"), workers)


def equivariance_runs():
    return expand(
        "results/equivariance/runs/{border}/seed{seed}.json",
        border=EQUIVARIANCE.borders,
        seed=EQUIVARIANCE.seeds,
    )


def equivariance_maps():
    return expand(
        "results/equivariance/maps/{border}/seed{seed}.csv",
        border=EQUIVARIANCE.borders,
        seed=EQUIVARIANCE.seeds,
    )


def continuous_shift_runs():
    return expand("results/continuous_shift/runs/{border}.json", border=CONTINUOUS_SHIFT.borders)


def advection_runs():
    return expand("results/advection/runs/{border}.json", border=ADVECTION.borders)


def online_invariance_runs():
    return expand(
        "results/online_invariance/runs/{arch}/{border}/{condition}/seed{seed}.json",
        arch=ONLINE_INVARIANCE.architectures,
        border=ONLINE_INVARIANCE.borders,
        condition=ONLINE_INVARIANCE.conditions,
        seed=ONLINE_INVARIANCE.seeds,
    )


#: Experiment -> its run records; the summary reads those of the included experiments.
RUN_RECORDS = {
    "red_green": red_green_runs,
    "rook": rook_runs,
    "translation_1d": lambda: ["results/translation_1d/run.json"],
    "quadrant": quadrant_runs,
    "shift": shift_runs,
    "data_efficiency": data_efficiency_runs,
    "patch_matching": patch_matching_runs,
    "action_recognition": action_recognition_runs,
    "equivariance": equivariance_runs,
    "continuous_shift": continuous_shift_runs,
    "advection": advection_runs,
    "online_invariance": online_invariance_runs,
}


def online_invariance_mem_mb(wildcards):
    """Memory of one online-invariance job: the pretraining canvases dominate (float32, one
    channel, plus a fifth held out), then the net; 1.5x headroom for batches and copies."""
    settings = ONLINE_INVARIANCE
    canvases = 1.2 * settings.pretrain_samples * settings.canvas_px**2 * 4 / 2**20
    return round(1000 + 1.5 * canvases)


def all_run_records():
    return [path for name, runs in RUN_RECORDS.items() if name in INCLUDED for path in runs()]


#: Experiment -> the figures and tables it draws (results/figures, results/tables).
FIGURES = {
    "red_green": ["red_green"],
    "rook": ["rook"],
    "translation_1d": ["translation_1d"],
    "quadrant": ["quadrant"],
    "shift": ["shift_curve"],
    "data_efficiency": ["data_efficiency"],
    "action_recognition": ["action_training_curves"],
    "equivariance": ["equivariance_maps", "equivariance_error"],
    "continuous_shift": ["continuous_shift"],
    "advection": ["advection"],
    "online_invariance": ["online_invariance", "invariance_by_layer"],
}
TABLES = {
    "red_green": ["red_green"],
    "shift": ["shift_diagonal", "shift_consistency"],
    "data_efficiency": ["data_efficiency"],
    "patch_matching": ["patch_matching"],
    "action_recognition": ["action_recognition"],
}


def included_artefacts(kind):
    """The figures or tables of the included experiments (the border maps always)."""
    names = FIGURES if kind == "figures" else TABLES
    chosen = [name for experiment in names if experiment in INCLUDED for name in names[experiment]]
    return chosen + (["border_maps"] if kind == "figures" else [])


def report_inputs():
    """Input of the paper report: every table and figure the run draws."""
    return expand(
        "results/tables/{name}.{ext}", name=included_artefacts("tables"), ext=["tex", "csv"]
    ) + expand(
        "results/figures/{name}.{ext}", name=included_artefacts("figures"), ext=["pdf", "png"]
    )


def final_targets():
    return [
        "results/summary.csv",
        "results/metrics.json",
        "results/config.yaml",
        "results/paper.pdf",
        *report_inputs(),
    ]
