"""The scaffolding every experiment's job stands on: device, identity, checkpoint, record.

An experiment's ``run()`` opens a :class:`Job`, trains under ``job.key`` (the only
key its checkpoint resumes under) and returns the record :meth:`Job.record` began;
the command line hands it to :func:`finish`, which writes the record and *then*
removes the checkpoint: a finished run is never resumed, so a forced
rerun (``snakemake -R``) trains again from epoch 0 instead of re-evaluating old
weights under new code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from transinv import identity, provenance
from transinv.devices import require_determinism, resolve_device
from transinv.records import RunRecord
from transinv.settings import Runtime


@dataclass
class Job:
    """One job of an experiment: the grid values that chose it, its settings, how it runs."""

    experiment: str
    job: dict[str, Any]
    settings: dict[str, Any]
    runtime: Runtime
    started: float = field(default_factory=time.perf_counter, init=False)

    def __post_init__(self) -> None:
        require_determinism()
        torch.set_num_threads(self.runtime.threads)
        self.device = resolve_device(self.runtime.device)
        self.code = identity.experiment_fingerprint(self.experiment)

    @property
    def numerics(self) -> dict[str, Any]:
        return identity.numerics(self.runtime, self.device.type)

    @property
    def key(self) -> str:
        return identity.run_key(
            self.experiment, self.job, self.settings, self.runtime, self.device.type, self.code
        )

    def record(
        self, *, dataset: str, scale: str, model: str, padding: str, seed: int | None
    ) -> RunRecord:
        """An empty record carrying this job's identity and provenance."""
        return RunRecord(
            experiment=self.experiment,
            dataset=dataset,
            scale=scale,
            precision=self.numerics["precision"],
            model=model,
            padding=padding,
            seed=seed,
            settings=self.settings,
            identity={"job": self.job, "code": self.code, **self.numerics, "key": self.key},
            environment=provenance.environment(self.device, self.settings, self.runtime.threads),
        )

    def done(self, record: RunRecord) -> RunRecord:
        """Stamp the record with the job's wall time; what ``run()`` returns."""
        record.wall_time_s = time.perf_counter() - self.started
        return record


def finish(record: RunRecord, output: str | Path, checkpoint: Path | None = None) -> None:
    """Write the record, then retire the checkpoint of the finished run."""
    record.save(output)
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
