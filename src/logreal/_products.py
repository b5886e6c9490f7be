"""Placeholder until the products module lands (issue 3)."""

from typing import Any


def cumprod(x: Any, axis: int = 0, **kw: Any) -> Any:
    raise NotImplementedError("cumprod: products module not written yet")


def leave_one_out(x: Any, axis: int = 0, **kw: Any) -> Any:
    raise NotImplementedError("leave_one_out: products module not written yet")


def prod_grad(f: Any, df: Any, **kw: Any) -> Any:
    raise NotImplementedError("prod_grad: products module not written yet")
