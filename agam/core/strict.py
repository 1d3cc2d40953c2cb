"""Strict validation of TOML data: TOML already has types, so none is guessed.

The data go through pydantic's JSON mode, strict: arrays may fill tuples and strings paths
or dates (their JSON forms), but "no" is not a boolean, "abc" not a port and 1.5 not a count.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def validate_strict(model: type[M], data: Any, context: dict[str, Any] | None = None) -> M:
    """`model` from TOML-decoded `data`; raises pydantic.ValidationError."""
    text = json.dumps(data, default=_toml_scalar, allow_nan=True)
    return model.model_validate_json(text, strict=True, context=context)


def _toml_scalar(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"unexpected {type(value).__name__} in TOML data")
