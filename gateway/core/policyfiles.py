"""Reading the reviewed TOML files under `policies/`: one way to fail, naming the file
and each bad item, so an operator fixes all of them in one go."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from gateway.core.errors import ConfigurationError

M = TypeVar("M", bound=BaseModel)


def load_toml(path: Path, model: type[M], what: str) -> M:
    """`path` parsed and validated as `model`, or a `ConfigurationError` that starts
    with `what` and the path."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{what} {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{what} {path}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"{what} {path}: {problems}") from None
