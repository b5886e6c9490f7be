"""The public namespace is exactly the documented contract (API.md), with its signatures."""

import inspect

import logreal as lr

# API.md sections 1-5 (section 6, backends beyond NumPy, is not a name list).
DOCUMENTED = {
    "LogReal": None,
    "exp": "(z)",
    "log": "(x)",
    "sqrt": "(x)",
    "sum": "(x, axis=None, keepdims=False)",
    "prod": "(x, axis=None, keepdims=False)",
    "mean": "(x, axis=None, keepdims=False)",
    "cumsum": "(x, axis=0)",
    "cumprod": "(x, axis=0, *, exclusive=False, reverse=False, op=None, identity=None)",
    "dot": "(x, y)",
    "matmul": "(x, y)",
    "einsum": "(subscripts, *operands, optimize='auto')",
    "where": "(cond, x, y)",
    "concat": "(xs, axis=0)",
    "stack": "(xs, axis=0)",
    "logsumexp": "(a, axis=None, b=None, keepdims=False, return_sign=False)",
    "logaddexp": "(a, b)",
    "logsubexp": "(a, b)",
    "log1mexp": "(x)",
    "log1pexp": "(x)",
    "logcumsumexp": "(a, axis=0)",
    "leave_one_out": "(x, axis=0, *, op=None, method='auto')",
    "prod_grad": "(f, df, *, op=None, method='auto')",
    "norm": "(x, p=2, axis=None, keepdims=False)",
    "lognorm": "(x, p=2, axis=None, keepdims=False)",
    "grad": "(fun, argnum=0)",
    "value_and_grad": "(fun, argnum=0)",
}


def _plain(sig: inspect.Signature) -> str:
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def test_all_is_the_documented_api():
    assert set(lr.__all__) == set(DOCUMENTED)
    for name in lr.__all__:
        assert hasattr(lr, name), name


def test_signatures_match_the_contract():
    for name, expected in DOCUMENTED.items():
        if expected is not None:
            assert _plain(inspect.signature(getattr(lr, name))) == expected, name


def test_logreal_surface():
    x = lr.LogReal([1.0])
    for attr in ("sign", "logabs", "shape", "ndim", "size", "T", "reshape", "to_real"):
        assert hasattr(x, attr), attr
    assert _plain(inspect.signature(lr.LogReal.from_log)) == "(logabs, sign=1)"


def test_every_public_function_has_an_example():
    for name in lr.__all__:
        doc = inspect.getdoc(getattr(lr, name)) or ""
        assert "Examples" in doc and ">>>" in doc, name


def test_every_public_name_is_in_the_api_reference():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    text = (root / "docs" / "api.md").read_text()
    for name in lr.__all__:
        assert re.search(rf"\b(lr\.)?{name}\b", text), f"{name} is missing from docs/api.md"
