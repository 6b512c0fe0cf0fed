"""What one Exp 5 job asks the scheduler for, and how long the workflow expects it to run.

A 3D ResNet-34 F-Conv on UCF101 costs several times its S-Conv twin (its maps grow by
two pixels per conv in both spatial axes), and 200 epochs of either are GPU-days, while
the quick stand-in run is CPU-minutes: each request follows the job's compute (forward
GMACs of one clip, from shapes only) with seconds per GMAC per clip. The CPU figures are
measured on the quick default (one thread); the GPU figures are a conservative fp32
estimate for one data-centre GPU, not yet measured.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from transinv.datasets.video_standin import MOTIONS
from transinv.experiments.action_recognition_settings import ActionRecognitionSettings
from transinv.experiments.shift_budget import SAFETY, STARTUP_MINUTES, memory_mb
from transinv.models import count_macs
from transinv.models.resnet3d import resnet3d

#: Seconds per forward GMAC per clip: (training step, evaluation).
SECONDS_PER_GMAC = {"cpu": (0.05, 0.015), "gpu": (0.0006, 0.0002)}
#: Videos of split 1 (train, test); the other splits differ by a few percent.
SPLIT_VIDEOS = {"ucf101": (9537, 3783), "hmdb51": (3570, 1530)}
CLASSES = {"ucf101": 101, "hmdb51": 51}
#: Mean frames per video at 25 fps (UCF101 about 186, HMDB51 about 97): the test pass
#: reads every non-overlapping window once.
MEAN_FRAMES = {"ucf101": 186, "hmdb51": 97}


@cache
def clip_gmacs(depth: int, variant: str, frames: int, size: int, width: int, classes: int) -> float:
    """GMACs of one forward pass of one clip (convolutions and the classifier)."""
    with torch.device("meta"):
        model = resnet3d(depth, variant=variant, num_classes=classes, width=width)
    return count_macs(model, size, frames=frames) / 1e9


def video_counts(dataset: str, settings: ActionRecognitionSettings) -> tuple[int, int, int]:
    """(training videos, test videos, classes) of one job's dataset."""
    if settings.root(dataset) is None:
        per_group = len(MOTIONS) * settings.standin_clips_per_group
        test_groups = settings.standin_test_groups
        train_groups = settings.standin_groups - test_groups
        return per_group * train_groups, per_group * test_groups, len(MOTIONS)
    train, test = SPLIT_VIDEOS[dataset]
    return train, test, CLASSES[dataset]


def expected_seconds(
    dataset: str, depth: int, variant: str, settings: ActionRecognitionSettings, on_gpu: bool
) -> float:
    """Compute time of one job: a clip per training video and the validation clips of the
    followed videos every epoch, then every window of the test videos once."""
    train, test, classes = video_counts(dataset, settings)
    gmacs = clip_gmacs(
        depth, variant, settings.clip_frames, settings.clip_px, settings.width, classes
    )
    train_cost, eval_cost = SECONDS_PER_GMAC["gpu" if on_gpu else "cpu"]
    followed = test * settings.val_clips_per_video
    per_epoch = train * gmacs * train_cost + followed * gmacs * eval_cost
    real = settings.root(dataset) is not None
    frames = MEAN_FRAMES[dataset] if real else settings.standin_frames
    windows = test * math.ceil(frames / settings.clip_frames)
    return settings.epochs * per_epoch + windows * gmacs * eval_cost


def runtime_minutes(
    dataset: str, depth: int, variant: str, settings: ActionRecognitionSettings, on_gpu: bool
) -> int:
    seconds = expected_seconds(dataset, depth, variant, settings, on_gpu)
    return math.ceil(STARTUP_MINUTES + SAFETY * seconds / 60)


def job_memory_mb(on_gpu: bool, workers: int) -> int:
    """Host memory of one job: the training process and its clip-decoding workers."""
    return memory_mb(on_gpu, 1, workers)
