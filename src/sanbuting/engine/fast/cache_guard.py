"""Numba's on-disk cache of the fast kernel, kept honest across edits.

Numba keys each cached function on its own source file's time stamp, but a compiled caller
embeds the callees it inlines from other files: after `postpaid.py` changes, `accounts.py`'s
cached `run_range` would still run the old `postpaid_days`. `forget_stale` digests every
source of this package and, when the digest differs from the one stamped beside the cache,
deletes the package's cached machine code first, so the kernel is compiled afresh once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
STAMP = "sources.sha256"


def forget_stale(package: Path = PACKAGE) -> bool:
    """Delete the package's Numba cache when its sources changed; True when it did."""
    digest = hashlib.sha256()
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode("utf-8"))
        digest.update(source.read_bytes())
    cache = package / "__pycache__"
    stamp = cache / STAMP
    try:
        if stamp.read_text(encoding="ascii") == digest.hexdigest():
            return False
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for stale in (*cache.glob("*.nbi"), *cache.glob("*.nbc")):
            stale.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest(), encoding="ascii")
    except OSError:  # a read-only install: Numba then keeps no cache there either
        return False
    return True
