"""Exp 5, action recognition from scratch (PROTOCOLS §8): does F-Conv help on small data?

One job trains one (dataset, protocol, depth, variant, seed) 3D ResNet on clips of the
decoded-frame cache (a rule's output) with the authors' video recipe, on the trainer every
classification experiment uses (:mod:`transinv.classifier_training`: one process or many
through torchrun, resumable mid-epoch), and evaluates the official test split twice: the
validation clips (3 per video, what the paper's tables report) and every non-overlapping
clip with the scores averaged per video.

- ``faithful``: the lr is cut when the loss on the test split's validation clips stops
  falling, and the last epoch's weights are reported: the authors' Hara-based code.
- ``corrected``: whole groups of the training split are held out (a group's clips come
  from one long video, so splitting a group would leak); the schedule and the epoch kept
  follow the held-out clips, and the test split is only read at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from transinv import distributed
from transinv.classifier_training import recipe_from, top1, train_for_job
from transinv.datasets.video_clips import (
    CachedVideo,
    ClipSpec,
    EvalClips,
    TrainClips,
    cached_videos,
    clip_logits,
    video_accuracy,
)
from transinv.datasets.video_decode import cached_video_dir
from transinv.datasets.video_splits import VideoSample, VideoSplit, hold_out_groups, read_split
from transinv.experiments.action_recognition_settings import ActionRecognitionSettings
from transinv.jobs import Job
from transinv.models.resnet3d import VIDEO_VARIANTS, resnet3d
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

DATASET_STANDIN = "ucf101_motion_standin"


@dataclass(frozen=True)
class ClipData:
    classes: tuple[str, ...]
    train: TrainClips
    selection: EvalClips
    test_validation: EvalClips
    test_all: EvalClips


def split_videos(
    split: VideoSplit, protocol: str, settings: ActionRecognitionSettings
) -> tuple[tuple[VideoSample, ...], tuple[VideoSample, ...]]:
    """(videos trained on, videos the schedule and the kept epoch follow)."""
    if protocol == "faithful":
        return split.train, split.test
    return hold_out_groups(split.train, settings.holdout_fraction, settings.data_seed)


def open_clips(
    split: VideoSplit, frames_root: Path, protocol: str, settings: ActionRecognitionSettings
) -> ClipData:
    def cached(samples: tuple[VideoSample, ...]) -> list[CachedVideo]:
        return cached_videos([(cached_video_dir(frames_root, s), s.label) for s in samples])

    spec = ClipSpec(frames=settings.clip_frames, size=settings.clip_px)
    trained, followed = split_videos(split, protocol, settings)
    test = cached(split.test)
    selection = test if followed == split.test else cached(followed)
    return ClipData(
        classes=split.classes,
        train=TrainClips(cached(trained), spec),
        selection=EvalClips(selection, spec, settings.val_clips_per_video),
        test_validation=EvalClips(test, spec, settings.val_clips_per_video),
        test_all=EvalClips(test, spec, None),
    )


def run(
    dataset: str,
    protocol: str,
    depth: int,
    variant: str,
    seed: int,
    settings: ActionRecognitionSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
    data_root: Path,
    frames_root: Path,
    stand_in: bool,
) -> RunRecord | None:
    """Train and test one cell of the paper's tables; None on every worker but the first."""
    grid = {
        "dataset": dataset,
        "protocol": protocol,
        "depth": depth,
        "variant": variant,
        "seed": seed,
    }
    job = Job(
        "action_recognition",
        grid,
        settings.for_job(dataset=dataset, protocol=protocol),
        runtime,
    )
    device = distributed.worker_device(job.device)
    split = read_split(dataset, data_root, settings.split)
    data = open_clips(split, frames_root, protocol, settings)
    seed_everything(seed)
    model = resnet3d(depth, variant=variant, num_classes=len(data.classes), width=settings.width)
    recipe = replace(
        recipe_from(settings, runtime),
        schedule="plateau",
        keep="last" if protocol == "faithful" else "best",
    )
    outcome = train_for_job(
        model,
        data.train,
        data.selection,
        recipe,
        job=job,
        device=device,
        seed=seed,
        checkpoint_path=checkpoint_path,
        channels_last=False,
        logger=log,
    )
    if outcome is None:
        return None
    clip_accuracy = top1(
        model,
        data.test_validation,
        device,
        batch_size=settings.eval_batch_size,
        num_workers=runtime.workers,
        amp=runtime.amp,
    )
    logits = clip_logits(
        model,
        data.test_all,
        device,
        batch_size=settings.eval_batch_size,
        num_workers=runtime.workers,
        amp=runtime.amp,
    )
    videos = video_accuracy(logits, data.test_all.video_of_clip, data.test_all.labels)
    log.info(
        "%s %s RN-%d %s seed %d: clip accuracy %.2f%%, video accuracy %.2f%%",
        dataset,
        protocol,
        depth,
        variant,
        seed,
        clip_accuracy,
        videos,
    )
    border = VIDEO_VARIANTS[variant].spatial_border
    record = job.record(
        dataset=DATASET_STANDIN if stand_in else dataset,
        scale=scale,
        model=f"resnet3d_{depth}",
        padding=border,
        seed=seed,
    )
    keys = {"variant": variant, "depth": depth, "split": settings.split}
    record.add(protocol, "clip_accuracy", clip_accuracy, **keys)
    record.add(protocol, "video_accuracy", videos, **keys)
    for epoch in outcome.history:
        at = {**keys, "epoch": int(epoch["epoch"])}
        record.add(protocol, "curve_train_accuracy", epoch["train_top1"], **at)
        record.add(protocol, "curve_eval_accuracy", epoch["selection_top1"], **at)
    record.details = {
        "classes": len(data.classes),
        "videos": {
            "train": len(data.train),
            "selection": len(data.selection.labels),
            "test": len(data.test_all.labels),
        },
        "clips": {
            "selection": len(data.selection),
            "test_validation": len(data.test_validation),
            "test_all": len(data.test_all),
        },
        "temporal_border": VIDEO_VARIANTS[variant].temporal_border,
        "post_paper": VIDEO_VARIANTS[variant].post_paper,
        **outcome.details(),
    }
    return job.done(record)


def describe_dataset(dataset: str, root: Path, split: int) -> dict[str, object]:
    """What one split holds: checked once, before any frame is decoded."""
    videos = read_split(dataset, root, split)
    return {
        "dataset": dataset,
        "root": str(root),
        "split": split,
        "classes": len(videos.classes),
        "train_videos": len(videos.train),
        "test_videos": len(videos.test),
    }
