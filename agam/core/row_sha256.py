"""sha256 of many short byte strings at once, in hex, without the GIL.

A registry import hashes every row (about 200 bytes each; 11 M rows at 10 M households).
`hashlib` costs a Python call per row, about 0.55 µs holding the GIL, while the check's other
threads wait for it. Here one compiled loop calls OpenSSL's own SHA-256 functions (the
library `hashlib` itself uses, with the CPU's SHA instructions) for every row and writes the
hex digits: about 0.2 µs a row, with the GIL released. Where that library or numba cannot be
loaded, `hashlib` gives the same digests (`tests/test_row_sha256.py` compares them).
"""

from __future__ import annotations

import binascii
import ctypes
import ctypes.util
import hashlib
import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
DIGEST_BYTES = 32
CONTEXT_BYTES = 256  # room for OpenSSL's SHA256_CTX (112 bytes)
COMPILED_FROM_ROWS = 20_000  # fewer rows are hashed by hashlib (no compiling for them)

_lock = threading.Lock()
_kernel: list[Callable[..., None] | None] = []  # [] untried; [None] unavailable


def hex_sha256(offsets: np.ndarray, data: np.ndarray | memoryview) -> bytes:
    """The lowercase hex sha256 of each data[offsets[i]:offsets[i+1]], concatenated (64
    bytes a value). `offsets`: int64, ascending; `data`: the bytes."""
    n = len(offsets) - 1
    if n <= 0:
        return b""
    kernel = _compiled() if n >= COMPILED_FROM_ROWS else None
    if kernel is None:
        return _with_hashlib(offsets, data)
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, memoryview) else data
    steps = np.diff(offsets)
    if offsets[0] < 0 or offsets[-1] > len(buffer) or (len(steps) and steps.min() < 0):
        raise ValueError("offsets outside the data")  # C reads no byte beyond the buffer
    out = np.empty(2 * DIGEST_BYTES * n, dtype=np.uint8)
    kernel(np.ascontiguousarray(offsets, dtype=np.int64), buffer, out, HEX_DIGITS)
    return out.tobytes()


def _with_hashlib(offsets: np.ndarray, data: np.ndarray | memoryview) -> bytes:
    view = memoryview(data.tobytes() if isinstance(data, np.ndarray) else data).cast("B")
    sha = hashlib.sha256
    digests = b"".join([sha(view[a:b]).digest() for a, b in itertools.pairwise(offsets.tolist())])
    return binascii.hexlify(digests)


def _compiled() -> Callable[..., None] | None:
    with _lock:
        if not _kernel:
            _kernel.append(_build())
        return _kernel[0]


def _build() -> Callable[..., None] | None:
    """The compiled loop, or None (logged) where OpenSSL's functions or numba are missing."""
    try:
        init, update, final = _openssl_functions()
        import numba
    except (OSError, AttributeError, ImportError) as exc:
        log.info("row sha256 by hashlib: %s", exc)
        return None

    @numba.njit(nogil=True)  # type: ignore[misc]
    def kernel(offsets: Any, data: Any, out: Any, hex_digits: Any) -> None:
        n = len(offsets) - 1
        context = np.empty(CONTEXT_BYTES, dtype=np.uint8)
        digest = np.empty(DIGEST_BYTES, dtype=np.uint8)
        ctx, base, into = context.ctypes.data, data.ctypes.data, digest.ctypes.data
        for i in range(n):
            init(ctx)
            update(ctx, base + offsets[i], offsets[i + 1] - offsets[i])
            final(into, ctx)
            at = 2 * DIGEST_BYTES * i
            for k in range(DIGEST_BYTES):
                out[at + 2 * k] = hex_digits[digest[k] >> 4]
                out[at + 2 * k + 1] = hex_digits[digest[k] & 15]

    return kernel  # type: ignore[no-any-return]


def _openssl_functions() -> tuple[Any, Any, Any]:
    """SHA256_Init, SHA256_Update and SHA256_Final of the process's libcrypto, pointers and
    sizes passed as machine words (the same in the C calling convention here)."""
    name = ctypes.util.find_library("crypto")
    if name is None:
        raise OSError("libcrypto not found")
    lib = ctypes.CDLL(name)
    word = ctypes.c_size_t
    init, update, final = lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final
    init.argtypes, init.restype = [word], ctypes.c_int
    update.argtypes, update.restype = [word, word, word], ctypes.c_int
    final.argtypes, final.restype = [word, word], ctypes.c_int
    return init, update, final
