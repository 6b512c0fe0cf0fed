"""Download dataset archives, check them against pinned checksums, extract them safely.

A dataset that arrives corrupted, tampered with, or crafted to write outside its
folder must never reach training. So every archive:

- is downloaded to a temporary file and accepted only if its SHA-256 equals the
  checksum pinned in the config (a mismatch deletes it and names both digests);
- is extracted member by member into a temporary folder, refusing absolute paths,
  ``..`` components, links that point outside the target, and device files;
- replaces the target folder only once everything has been extracted, and writes
  a ``.complete`` marker (holding the checksum) that the workflow depends on.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from transinv.atomic import write_text

log = logging.getLogger(__name__)

MARKER = ".complete"
_CHUNK = 1 << 20


class ChecksumMismatch(RuntimeError):
    """The downloaded file is not the pinned one."""


class UnsafeArchive(RuntimeError):
    """The archive tries to write outside its target folder, or holds special files."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, destination: Path, expected_sha256: str, timeout: float = 60.0) -> Path:
    """Fetch ``url`` to ``destination``; keep it only if its SHA-256 is the pinned one.

    ``expected_sha256`` may be a published prefix of the digest (at least 8 hex digits,
    as PyTorch's model files carry in their names); datasets pin all 64.
    """
    if len(expected_sha256) < 8:
        raise ValueError(f"a pinned SHA-256 needs at least 8 hex digits, got {expected_sha256!r}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=".download-")
    tmp = Path(tmp_name)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(handle, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            received = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                if total:
                    log.info("%s: %.0f%% of %d bytes", url, 100 * received / total, total)
        actual = sha256_of(tmp)
        if not actual.startswith(expected_sha256.lower()):
            raise ChecksumMismatch(
                f"{url}: SHA-256 {actual} does not match the pinned {expected_sha256}; "
                "the file was deleted. If the dataset was legitimately re-released, update "
                "the pinned checksum in the config after verifying the new file."
            )
        tmp.replace(destination)
    finally:
        tmp.unlink(missing_ok=True)
    return destination


def _check_member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith(("\\", "/")):
        raise UnsafeArchive(f"archive member {name!r} would be written outside the target folder")
    return path


def _link_stays_inside(member_path: PurePosixPath, link_target: str) -> bool:
    target = PurePosixPath(link_target)
    if target.is_absolute():
        return False
    depth = 0
    for part in (*member_path.parent.parts, *target.parts):
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            return False
    return True


def _safe_tar_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in archive.getmembers():
        path = _check_member_path(member.name)
        if member.issym() or member.islnk():
            if member.islnk():
                _check_member_path(member.linkname)
            elif not _link_stays_inside(path, member.linkname):
                raise UnsafeArchive(
                    f"archive member {member.name!r} links to {member.linkname!r}, "
                    "outside the target folder"
                )
        elif not (member.isfile() or member.isdir()):
            raise UnsafeArchive(f"archive member {member.name!r} is a device or special file")
        members.append(member)
    return members


def _extract_zip(archive_path: Path, into: Path) -> None:
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            _check_member_path(info.filename)
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:  # a symbolic link stored in a zip
                raise UnsafeArchive(f"archive member {info.filename!r} is a symbolic link")
        archive.extractall(into)


def extract(archive_path: Path, target: Path) -> Path:
    """Extract a .tar(.gz/.bz2/.xz) or .zip archive into ``target``, all or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        if zipfile.is_zipfile(archive_path):
            _extract_zip(archive_path, staging)
        elif tarfile.is_tarfile(archive_path):
            with tarfile.open(archive_path) as archive:
                archive.extractall(staging, members=_safe_tar_members(archive), filter="data")
        else:
            raise UnsafeArchive(f"{archive_path} is neither a tar nor a zip archive")
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def fetch_dataset(url: str, sha256: str, target: Path, downloads: Path) -> Path:
    """Download (unless already verified), check, extract, and mark ``target`` complete."""
    archive = downloads / PurePosixPath(url.split("?")[0]).name
    if not (archive.exists() and sha256_of(archive) == sha256.lower()):
        download(url, archive, sha256)
    extract(archive, target)
    write_text(target / MARKER, f"{sha256.lower()}\n")
    return target
