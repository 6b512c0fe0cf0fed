"""Keep freed memory in the process instead of handing it back to the kernel.

glibc's malloc serves every allocation above a moving threshold (128 KiB to start)
with its own ``mmap`` and returns freed memory at the top of the heap to the kernel
(``trim``). A training step allocates and frees the same multi-megabyte activation
and gradient tensors every step, so with the defaults each step unmaps them and the
next one faults every page back in: on a 2-core machine that cost a third as much
system time as the training's user time, for identical arithmetic.

:func:`keep_freed_memory` sets, once, at the start of every ``transinv`` command:

* ``M_MMAP_THRESHOLD`` to 32 MiB (glibc's maximum on 64-bit): tensors up to that size
  come from the heap and are reused. Setting it also turns off glibc's dynamic
  threshold, which would otherwise move it back and forth.
* ``M_TRIM_THRESHOLD`` to 2 GiB: freed memory at the top of the heap is kept.
* ``M_TOP_PAD`` to 256 MiB: the heap grows in large steps, so growing it is rare.

Not set: ``M_MMAP_MAX`` = 0 (no per-allocation mmap at all). Maps above 32 MiB (an
evaluation batch of 500 images has 65-74 MB ones) then also come from the heap, which
saves the occasional second of faults when the heap has no room for them, but it
raised a Red-Green job's peak memory by about 20%, close to what its rule requests.

The same as ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647
MALLOC_TOP_PAD_=268435456`` in the environment, but in one place that covers every job
whatever launches it (Snakemake, SLURM, a shell). Only where memory is *placed*
changes, never what is computed (the training numbers are bit-identical:
tests/test_allocator.py). On a C library other than glibc (macOS, musl) nothing is
changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform

log = logging.getLogger(__name__)

# mallopt parameter numbers from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

#: (parameter, value, name) set by :func:`keep_freed_memory`.
SETTINGS: tuple[tuple[int, int, str], ...] = (
    (M_MMAP_THRESHOLD, 32 * 1024 * 1024, "M_MMAP_THRESHOLD"),
    (M_TRIM_THRESHOLD, 2**31 - 1, "M_TRIM_THRESHOLD"),
    (M_TOP_PAD, 256 * 1024 * 1024, "M_TOP_PAD"),
)

_applied: bool | None = None


def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") else None


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep and reuse freed memory; True when it took effect.

    Safe to call more than once (only the first call acts) and a no-op returning
    False where the C library is not glibc.
    """
    global _applied
    if _applied is not None:
        return _applied
    libc = _libc()
    if libc is None:
        _applied = False
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    ok = True
    for param, value, name in SETTINGS:
        if libc.mallopt(param, value) != 1:
            log.debug("mallopt(%s, %d) was refused", name, value)
            ok = False
    _applied = ok
    return ok
