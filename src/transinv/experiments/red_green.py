"""Red-Green (paper Table 1): which border types let a CNN tell "top" from "bottom"?

One job trains one (border, seed) pair. The faithful and corrected protocols share
the training set, the initialisation and the (unshuffled) batch order, so they
share the weight trajectory; the job trains it once and applies each protocol's
early stopping and best-epoch selection to it. The result for each protocol is
exactly what a separate run would give (tested), at half the cost.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from transinv import provenance
from transinv.models import RedGreenNet, count_macs
from transinv.records import RunRecord
from transinv.red_green_data import make_splits
from transinv.settings import RedGreenSettings, Runtime, as_dict
from transinv.training import (
    Split,
    TrainSettings,
    best_model,
    evaluate,
    resolve_device,
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


def expected_seconds(border: str, settings: RedGreenSettings) -> float:
    """Compute time of one job at the epoch cap: what the workflow orders jobs by."""
    gmacs = count_macs(RedGreenNet(border), 32) / 1e9
    per_epoch = gmacs * (3 * settings.n_train + len(settings.protocols) * settings.n_val)
    factor = CIRCULAR_FACTOR if border.endswith("circular") else 1.0
    return settings.max_epochs * per_epoch * SECONDS_PER_GMAC * factor


def _per_run_settings(settings: RedGreenSettings) -> dict[str, object]:
    """The settings one (border, seed) run depends on; the rest of the grid may change freely."""
    return {k: v for k, v in as_dict(settings).items() if k not in ("borders", "seeds")}


def run(
    border: str,
    seed: int,
    settings: RedGreenSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
) -> RunRecord:
    started = time.perf_counter()
    torch.set_num_threads(runtime.threads)
    device = resolve_device(runtime.device)
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
        run_key=provenance.config_hash([_per_run_settings(settings), border, seed]),
        progress=report,
    )

    record = RunRecord(
        experiment="red_green",
        dataset=DATASET,
        scale=scale,
        model=MODEL,
        padding=border,
        seed=seed,
        settings=_per_run_settings(settings),
        environment=provenance.environment(device, _per_run_settings(settings)),
    )
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
    record.wall_time_s = time.perf_counter() - started
    return record
