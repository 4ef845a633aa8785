"""Loading the known-answer vectors of tests/vectors and pinning randomness to them."""

import json
from collections.abc import Callable
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


def hexval(entry: dict) -> bytes:
    """The bytes of a vector entry ``{"hex": …, "source": …}``."""
    return bytes.fromhex(entry["hex"])


def scripted_rng(*outputs: bytes) -> Callable[[int], bytes]:
    """An rng that returns exactly ``outputs`` in order and fails on any other request."""
    queue = list(outputs)

    def rng(n: int) -> bytes:
        assert queue, f"unexpected request for {n} random bytes"
        value = queue.pop(0)
        assert len(value) == n, f"asked for {n} random bytes, the vector has {len(value)}"
        return value

    rng.remaining = queue  # type: ignore[attr-defined]
    return rng


def scalar_bytes(entry: dict, size: int) -> bytes:
    """A private key from a vector, as the ``size`` bytes ``random_scalar`` draws (leading 00 dropped)."""
    return int.from_bytes(hexval(entry), "big").to_bytes(size, "big")
