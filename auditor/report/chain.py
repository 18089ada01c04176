"""The integrity chain: SHA-256 over the canonical JSON of each decision record, in order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

ALGORITHM = "sha256-chain/1"
GENESIS = bytes(32)


def has_float(value: Any) -> bool:
    """True if a plain JSON value holds a float anywhere."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def canonical(record: Mapping[str, Any], floats: bool | None = None) -> bytes:
    """A decision record as canonical JSON bytes.

    Defined as Python's ``json.dumps(record, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` encoded as UTF-8, so anyone can recompute it with a standard
    library. orjson writes the same bytes for every value but some floats (``1e-05`` vs
    ``0.00001``), and much faster, so it is used when the record holds no float.
    ``record`` must hold plain JSON values (dict, list, str, int, float, bool, None);
    ``floats`` says whether it holds a float, when the caller knows (else it is looked up).
    """
    if floats if floats is not None else has_float(record):
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


class HashChain:
    """h0 = 32 zero bytes; h_i = SHA-256(h_{i-1} || canonical(decision_i)); ``head`` = h_n."""

    def __init__(self) -> None:
        self._head = GENESIS
        self.records = 0

    def add(self, record: Mapping[str, Any], floats: bool | None = None) -> None:
        """Chain one decision record (``floats`` as for ``canonical``)."""
        self._head = hashlib.sha256(self._head + canonical(record, floats)).digest()
        self.records += 1

    @property
    def head(self) -> str:
        return self._head.hex()
