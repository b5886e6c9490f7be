"""Placeholder until the norms module lands (issue 4)."""

from typing import Any


def norm(x: Any, p: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    raise NotImplementedError("norm: norms module not written yet")


def lognorm(x: Any, p: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    raise NotImplementedError("lognorm: norms module not written yet")
