"""Made-up ids that are stable per name, so two runs of one world serve the same ids."""

from __future__ import annotations

import hashlib

__all__ = ["hex_id", "number_id", "swarm_id"]

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).digest()


def number_id(*parts: object, bits: int = 31) -> int:
    """A positive integer id (fits an int64 and a JSON number everywhere)."""
    return int.from_bytes(_digest(*parts)[:8], "big") % (1 << bits) + 1


def hex_id(*parts: object, length: int = 64) -> str:
    """A Docker-style hex id (containers, volumes' drivers, endpoints)."""
    return _digest(*parts).hex()[:length]


def swarm_id(*parts: object) -> str:
    """A 25-character base-36 id, the form swarmkit gives nodes, services, tasks, networks."""
    value = int.from_bytes(_digest(*parts), "big")
    chars = []
    for _ in range(25):
        value, rem = divmod(value, 36)
        chars.append(_BASE36[rem])
    return "".join(chars)
