"""Dataset fetching against a real HTTP server on 127.0.0.1, with crafted archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from transinv.fetch import (
    MARKER,
    ChecksumMismatch,
    UnsafeArchive,
    extract,
    fetch_dataset,
)


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> str:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file(name: str, data: bytes = b"pixels") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_good_archive_is_fetched_verified_and_extracted(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = served
    digest = _tar(root / "images.tar.gz", [_file("val/cat/0.png"), _file("val/dog/0.png"),
                                           _link("val/dog/same.png", "0.png")])  # fmt: skip
    target = fetch_dataset(f"{url}/images.tar.gz", digest, tmp_path / "data", tmp_path / "dl")
    assert (target / "val" / "cat" / "0.png").read_bytes() == b"pixels"
    assert (target / MARKER).read_text().strip() == digest
    assert (target / "val" / "dog" / "same.png").resolve().parent == target.resolve() / "val/dog"


def test_checksum_mismatch_keeps_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    _tar(root / "images.tar.gz", [_file("a.png")])
    with pytest.raises(ChecksumMismatch, match="does not match the pinned"):
        fetch_dataset(f"{url}/images.tar.gz", "0" * 64, tmp_path / "data", tmp_path / "dl")
    assert not (tmp_path / "data").exists()
    assert not list((tmp_path / "dl").iterdir())


@pytest.mark.parametrize(
    "members",
    [
        [_file("../escaped.txt")],
        [_file("/tmp/absolute.txt")],
        [_file("ok/../../escaped.txt")],
        [_link("evil", "/etc/passwd")],
        [_link("deep/evil", "../../outside")],
        [_link("hard", "../outside", tarfile.LNKTYPE)],
        [(tarfile.TarInfo("dev"), None)],
    ],
    ids=["dotdot", "absolute", "nested-dotdot", "abs-symlink", "rel-symlink", "hardlink", "dev"],
)
def test_crafted_tar_is_refused(served: tuple[str, Path], tmp_path: Path, members: list) -> None:
    if members[0][0].name == "dev":
        members[0][0].type = tarfile.CHRTYPE
    url, root = served
    digest = _tar(root / "crafted.tar.gz", [_file("fine.png"), *members])
    with pytest.raises(UnsafeArchive):
        fetch_dataset(f"{url}/crafted.tar.gz", digest, tmp_path / "x" / "data", tmp_path / "dl")
    assert not (tmp_path / "x" / "data").exists()
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "x" / "escaped.txt").exists()


def test_zip_traversal_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "crafted.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("fine.png", b"ok")
        handle.writestr("../../escaped.txt", b"no")
    with pytest.raises(UnsafeArchive, match="outside the target"):
        extract(archive, tmp_path / "out" / "data")
    assert not (tmp_path / "escaped.txt").exists()


def test_zip_is_extracted(tmp_path: Path) -> None:
    archive = tmp_path / "good.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("val/cat/0.png", b"ok")
    assert (extract(archive, tmp_path / "data") / "val" / "cat" / "0.png").read_bytes() == b"ok"


def test_verified_download_is_not_repeated(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    digest = _tar(root / "images.tar.gz", [_file("a.png")])
    fetch_dataset(f"{url}/images.tar.gz", digest, tmp_path / "data", tmp_path / "dl")
    (root / "images.tar.gz").unlink()  # a second fetch must not need the server
    fetch_dataset(f"{url}/images.tar.gz", digest, tmp_path / "data", tmp_path / "dl")
    assert (tmp_path / "data" / "a.png").exists()
