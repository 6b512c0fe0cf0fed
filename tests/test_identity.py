"""A result's identity: code fingerprints, per-job settings, numerics, and run keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from transinv import identity
from transinv.identity import PACKAGE_ROOT, code_fingerprint, module_closure, numerics, run_key
from transinv.settings import (
    QuadrantSettings,
    RedGreenSettings,
    RookSettings,
    Runtime,
    from_mapping,
    job_settings_json,
)


def _names(module: str, root: Path = PACKAGE_ROOT) -> set[str]:
    return {p.relative_to(root).as_posix() for p in module_closure(module, root)}


def test_closure_follows_imports_and_only_them() -> None:
    red_green = _names("transinv.experiments.red_green")
    for needed in ("experiments/red_green.py", "training.py", "borders.py", "models/small.py"):
        assert needed in red_green
    # A package's __init__ runs, so it counts; what it imports does not, unless imported.
    assert "models/__init__.py" in red_green
    for unrelated in ("models/bagnet.py", "quadrant_data.py", "plots/red_green.py", "cli.py"):
        assert unrelated not in red_green
    assert not {"borders.py", "training.py"} & _names("transinv.experiments.translation_1d")


def test_unknown_module_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a module"):
        module_closure("transinv.experiments.no_such_experiment")


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    root = tmp_path / "transinv"
    shutil.copytree(PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_fingerprint_changes_with_the_code_a_job_runs(package_copy: Path) -> None:
    module = "transinv.experiments.red_green"
    before = code_fingerprint(module, package_copy)
    assert before == code_fingerprint(module, PACKAGE_ROOT)

    plot = package_copy / "plots" / "red_green.py"
    plot.write_text(plot.read_text() + "\n# a plotting change\n")
    assert code_fingerprint.__wrapped__(module, package_copy) == before

    trainer = package_copy / "training.py"
    trainer.write_text(trainer.read_text() + "\n# a training change\n")
    assert code_fingerprint.__wrapped__(module, package_copy) != before


def test_job_settings_leave_out_the_grid() -> None:
    settings = RedGreenSettings()
    job = settings.for_job()
    assert "borders" not in job and "seeds" not in job
    assert job["protocols"] == ["faithful", "corrected"]  # one job runs every protocol
    more_seeds = RedGreenSettings(seeds=(*settings.seeds, 99), borders=("valid",))
    assert job_settings_json(more_seeds) == job_settings_json(settings)
    assert "borders" not in RookSettings().for_job()


def test_quadrant_job_reads_only_its_own_weights() -> None:
    base = QuadrantSettings()
    changed = QuadrantSettings(
        pretrained_weights={**base.pretrained_weights, "bagnet33": "weights/bagnet33.pt"}
    )
    for arch in base.architectures:
        for init in base.inits:
            same = job_settings_json(base, arch=arch, init=init) == job_settings_json(
                changed, arch=arch, init=init
            )
            assert same == (arch != "bagnet33" or init != "pretrained_frozen"), (arch, init)
    assert base.for_job(arch="resnet18", init="scratch")["pretrained_weights"] == {}
    job = base.for_job(arch="resnet18", init="pretrained_frozen")
    assert job["pretrained_weights"] == {"resnet18": "imagenet"}
    # a job's settings are settings again, and the same job's
    again = from_mapping(QuadrantSettings, job)
    assert again.for_job(arch="resnet18", init="pretrained_frozen") == job


def test_numerics_name_what_changes_the_numbers() -> None:
    assert numerics(Runtime(), "cpu")["precision"] == "fp32"
    assert numerics(Runtime(amp="bf16"), "cpu")["precision"] == "fp32"  # no AMP on the CPU
    assert numerics(Runtime(amp="bf16"), "cuda")["precision"] == "amp-bf16"
    assert numerics(Runtime(amp="fp16"), "cuda")["precision"] == "amp-fp16"
    with pytest.raises(ValueError, match="amp must be"):
        Runtime(amp="fp8")


def test_run_key_covers_code_settings_and_numerics_not_threads() -> None:
    settings = RedGreenSettings().for_job()
    job = {"border": "same_zero", "seed": 0}

    fp32 = Runtime()

    def key(runtime: Runtime = fp32, device: str = "cpu", **changes: object) -> str:
        values = {"job": job, "settings": settings, "code": "c0de", **changes}
        return run_key(
            "red_green", values["job"], values["settings"], runtime, device, values["code"]
        )

    reference = key()
    assert key(Runtime(threads=8)) == reference
    assert key(Runtime(channels_last=True)) != reference
    assert key(device="cuda") != reference
    assert key(Runtime(amp="bf16"), "cuda") != key(device="cuda")
    assert key(code="other") != reference
    assert key(settings={**settings, "lr": 0.5}) != reference
    assert key(job={**job, "seed": 1}) != reference
    assert run_key("red_green", job, settings, Runtime(), "cpu") == run_key(
        "red_green", job, settings, Runtime(), "cpu", identity.experiment_fingerprint("red_green")
    )
