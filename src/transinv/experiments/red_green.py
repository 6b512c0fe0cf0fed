"""Red-Green (paper Table 1): which border types let a CNN tell "top" from "bottom"?

One job trains one (border, seed) pair. The faithful and corrected protocols share
the training set, the initialisation and the (unshuffled) batch order, so they
share the weight trajectory; the job trains it once and applies each protocol's
early stopping and best-epoch selection to it. The result for each protocol is
exactly what a separate run would give (tested), at half the cost.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import torch

from transinv.jobs import Job
from transinv.models.macs import count_macs
from transinv.models.small import RedGreenNet
from transinv.records import RunRecord
from transinv.red_green_data import make_splits
from transinv.settings import RedGreenSettings, Runtime
from transinv.training import (
    Split,
    TrainSettings,
    best_model,
    evaluate,
    seed_everything,
    train,
)

log = logging.getLogger(__name__)

DATASET = "red_green_generated"
MODEL = "red_green_net"


#: CPU seconds per forward GMAC of one image (training counts 3x), one thread, measured
#: on the same_zero net (docs/BENCHMARKS.md); circular padding adds a copy of every map.
SECONDS_PER_GMAC = 0.03
CIRCULAR_FACTOR = 1.3


@cache
def _forward_gmacs(border: str) -> float:
    return count_macs(RedGreenNet(border), 32) / 1e9


def expected_seconds(border: str, settings: RedGreenSettings) -> float:
    """Compute time of one job at the epoch cap: what the workflow orders jobs by."""
    gmacs = _forward_gmacs(border)
    per_epoch = gmacs * (3 * settings.n_train + len(settings.protocols) * settings.n_val)
    factor = CIRCULAR_FACTOR if border.endswith("circular") else 1.0
    return settings.max_epochs * per_epoch * SECONDS_PER_GMAC * factor


def run(
    border: str,
    seed: int,
    settings: RedGreenSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
) -> RunRecord:
    job = Job("red_green", {"border": border, "seed": seed}, settings.for_job(), runtime)
    device = job.device
    splits = {
        protocol: make_splits(
            protocol, settings.n_train, settings.n_val, settings.n_test, settings.data_seed
        )
        for protocol in settings.protocols
    }
    first = splits[settings.protocols[0]]
    train_split = Split(*first.tensors("train"))
    monitors = {protocol: Split(*s.tensors("val")) for protocol, s in splits.items()}

    # The authors seed torch with the repeat index right before building the net.
    seed_everything(seed)
    model = RedGreenNet(border)
    optimizer = torch.optim.Adadelta(
        model.parameters(),
        lr=settings.lr,
        rho=settings.rho,
        eps=settings.eps,
        weight_decay=settings.weight_decay,
    )

    def report(record: dict[str, float]) -> None:
        losses = ", ".join(
            f"{k.removesuffix('_val_loss')} val loss {v:.4f}"
            for k, v in record.items()
            if k.endswith("_val_loss")
        )
        log.info(
            "epoch %d/%d: train loss %.4f, %s (%.1fs)",
            record["epoch"],
            settings.max_epochs,
            record["train_loss"],
            losses,
            record["seconds"],
        )

    outcome = train(
        model,
        optimizer,
        train_split,
        monitors,
        TrainSettings(
            batch_size=settings.batch_size,
            max_epochs=settings.max_epochs,
            patience=settings.patience,
            amp=runtime.amp,
            channels_last=runtime.channels_last,
        ),
        checkpoint_path,
        device,
        seed,
        run_key=job.key,
        progress=report,
    )

    record = job.record(dataset=DATASET, scale=scale, model=MODEL, padding=border, seed=seed)
    for protocol, tracker in outcome.trackers.items():
        kept = best_model(model, tracker)
        for test_set in ("similar", "dissimilar"):
            _, accuracy = evaluate(kept, Split(*splits[protocol].tensors(test_set)), device)
            record.add(protocol, f"{test_set}_accuracy", accuracy)
        record.add(protocol, "epochs_run", tracker.stopped_epoch or 0)
        record.add(protocol, "best_epoch", tracker.best_epoch)
    record.details = {
        "history": outcome.history,
        "epochs_trained": outcome.epochs_trained,
        "resumed_from_epoch": outcome.resumed_from_epoch,
    }
    return job.done(record)
