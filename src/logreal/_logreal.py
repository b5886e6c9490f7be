"""``LogReal``: a vectorised signed log-space real.

A value is stored as two arrays: ``sign`` in {-1, 0, +1} (nan for a nan), in
float32 (:data:`~logreal._backend.SIGN_DTYPE`) whatever the logs' dtype, and
``logabs = log|x|`` in the value's float dtype.  There is one zero (sign 0,
logabs -inf) and one nan (both components nan); every operation returns that
canonical form.  The ``sign`` property hands the signs out in the logs' dtype.
The arithmetic kernels live in :mod:`logreal._special`; this module is the
type, its operators and its NumPy protocols.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterator
from typing import Any

import array_api_compat
import numpy as np

from . import _format, _numba
from ._backend import Array, Namespace, as_float, as_sign, is_python_scalar, namespace, widened
from ._exact import LN2_HI, LN2_LO
from ._special import canonical, signed_add

__all__ = ["ELEMENTWISE", "LogReal", "exp", "log", "sqrt"]


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        m = a[-i] if i <= len(a) else 1
        n = b[-i] if i <= len(b) else 1
        if m != n and m != 1 and n != 1:
            raise ValueError(f"shapes {a} and {b} do not broadcast together")
        out.append(n if m == 1 else m)
    return tuple(reversed(out))


def _from_real(x: Any) -> tuple[Array, Array]:
    """(sign, logabs) of real values."""
    if type(x) is int and abs(x) > 2**62:  # maybe beyond float range
        return np.asarray(1.0 if x > 0 else -1.0), np.asarray(_int_log(abs(x)))
    if isinstance(x, list | tuple):
        obj = np.asarray(x, dtype=object)
        if any(type(v) is int and abs(v) > 2**62 for v in obj.reshape(-1)):
            return _python_logs(obj)
    xp = namespace(x)
    a = as_float(x, xp)
    if array_api_compat.is_dask_array(a):  # the logs are taken later, chunk by chunk
        import dask.array as da

        return canonical(xp.sign(a), da.map_blocks(_log_abs, a, dtype=a.dtype), xp)
    return canonical(xp.sign(a), _log_abs(a), xp)


def _log_abs(a: Any) -> Any:
    """log|a|; log 0 = -inf, the zero."""
    xp = namespace(a)
    with np.errstate(divide="ignore"):  # log 0 = -inf: the zero
        return xp.log(xp.abs(a))


def _int_log(n: int) -> float:
    """log(n) of a positive int of any size, rounded once (about half an ulp).

    ``n = top * 2**k`` with ``top`` below 2**64; ``k ln 2`` is taken as
    ``k * LN2_HI`` (exact) plus ``k * LN2_LO`` (:mod:`logreal._exact`).
    """
    k = max(0, n.bit_length() - 64)
    top = float(n >> k) + (0.5 if k and n & ((1 << k) - 1) else 0.0)
    return k * LN2_HI[8] + (k * LN2_LO[8] + math.log(top))


def _rebuild(sign: Array, logabs: Array) -> LogReal:
    """Unpickle: the stored components, as they were."""
    return LogReal._new(sign, logabs)


def _python_logs(obj: np.ndarray) -> tuple[Array, Array]:
    """(sign, logabs) of an object array of Python reals, ints of any size exactly."""
    flat = [_from_real(v) for v in obj.reshape(-1)]
    sign = np.asarray([float(s) for s, _ in flat], dtype=np.float64).reshape(obj.shape)
    logabs = np.asarray([float(la) for _, la in flat], dtype=np.float64).reshape(obj.shape)
    return sign, logabs


def _is_box(x: Any) -> bool:
    """Whether ``x`` is a value traced by :func:`logreal.grad` (a Box)."""
    from ._autodiff import Box  # the tracer imports this module; looked up at call time

    return isinstance(x, Box)


class LogReal:
    """Real numbers stored as a sign and a log-magnitude, as arrays.

    Products become sums and sums become signed log-sum-exp, so 1e-40000 and
    -1e+500 are as ordinary as 0.5.  It is a ring: negative numbers and
    subtraction work, and ``x - x`` is exactly zero.

    Parameters
    ----------
    x : array_like or LogReal
        Real values: a scalar, a (nested) list, a NumPy array or any array-API
        array.  Integers become float64; float32 stays float32.

    See Also
    --------
    LogReal.from_log : build from log-magnitudes and signs.
    exp : ``e**z`` for real ``z`` as a LogReal.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> p = lr.LogReal(np.full(100_000, 0.5))
    >>> float(lr.prod(p).logabs)               # np.prod gives 0.0
    -69314.718056
    >>> lr.exp(1000.0) - lr.exp(1000.0)
    LogReal(0.0)
    >>> lr.LogReal.from_log([-40000 * np.log(10), 0.0], sign=[1, -1]) * 1.5
    LogReal([ 1.5e-40000, -1.5])
    """

    __slots__ = ("_logabs", "_sign")
    _sign: Array
    _logabs: Array
    __array_priority__ = 1000

    def __new__(cls, x: Any = None) -> Any:
        if _is_box(x):  # inside lr.grad: record the conversion
            from ._rules import to_logreal

            return to_logreal(x)
        return object.__new__(cls)

    def __init__(self, x: Any) -> None:
        if isinstance(x, LogReal):
            self._sign, self._logabs = x._sign, x._logabs
        elif isinstance(x, list | tuple) and any(isinstance(v, LogReal | list | tuple) for v in x):
            # Nested sequences may hold LogReals: stack them, never via floats.
            parts = [LogReal(v) for v in x]
            xp = namespace(*(p._logabs for p in parts))
            self._sign = xp.stack([p._sign for p in parts])
            self._logabs = xp.stack([p._logabs for p in parts])
        else:
            sign, self._logabs = _from_real(x)
            self._sign = as_sign(sign)

    # -- construction --------------------------------------------------------

    @classmethod
    def _new(cls, sign: Array, logabs: Array) -> LogReal:
        """Wrap components that are already canonical (no checks; the signs
        are stored as float32)."""
        out = object.__new__(cls)
        out._sign, out._logabs = as_sign(sign), logabs
        return out

    @classmethod
    def from_log(cls, logabs: Any, sign: Any = 1) -> LogReal:
        """The numbers ``sign * e**logabs``, broadcasting the two.

        Parameters
        ----------
        logabs : array_like
            Log-magnitudes; -inf is zero, +inf is infinite.
        sign : array_like, optional
            Signs, read as ``np.sign(sign)`` (so any real works); 1 by default.

        Examples
        --------
        >>> import logreal as lr
        >>> lr.LogReal.from_log([0.0, 2000.0, -float("inf")], sign=[-1, 1, 1])
        LogReal([-1.0,  3.881180194377119e+868,  0.0])
        """
        if _is_box(logabs):  # inside lr.grad: record the conversion
            from ._rules import from_log

            return from_log(logabs, sign)  # type: ignore[no-any-return]
        xp = namespace(logabs, sign)
        la = as_float(logabs, xp)
        sa = xp.asarray(sign, dtype=la.dtype) if is_python_scalar(sign) else as_float(sign, xp)
        dtype = xp.result_type(la, sa)
        shape = _broadcast_shape(tuple(la.shape), tuple(sa.shape))
        la, sa = xp.astype(la, dtype), xp.astype(sa, dtype)
        if array_api_compat.is_dask_array(la):  # Dask: the operands' chunks, never one chunk
            import dask.array as da

            la, sa = da.broadcast_arrays(la, sa)
        la, sa = xp.broadcast_to(la, shape), xp.broadcast_to(sa, shape)
        return cls._new(*canonical(xp.sign(sa), la, xp))

    # -- components and array behaviour -------------------------------------

    @property
    def sign(self) -> Array:
        """Signs: -1, 0 or +1 (nan for a nan), in the input's namespace and the
        dtype of ``logabs``."""
        return widened(self._sign, self._logabs, self._xp)

    @property
    def logabs(self) -> Array:
        """Natural logs of the magnitudes (-inf for zero)."""
        return self._logabs

    @property
    def dtype(self) -> Any:
        """The float dtype of the values (of ``logabs`` and of ``sign``)."""
        return self._logabs.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._logabs.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def T(self) -> LogReal:
        """The transpose (axes reversed)."""
        return self.transpose()

    def transpose(self, *axes: int) -> LogReal:
        xp = self._xp
        order: tuple[int, ...] = axes
        if len(axes) == 1 and not isinstance(axes[0], int):
            order = tuple(axes[0])
        order = order or tuple(reversed(range(self.ndim)))
        return LogReal._new(
            xp.permute_dims(self._sign, order), xp.permute_dims(self._logabs, order)
        )

    def reshape(self, *shape: Any, order: str = "C") -> LogReal:
        """The same values in a new shape (NumPy's rules, ``-1`` allowed).

        ``order="F"`` reads and writes the elements first index fastest, as
        NumPy's; ``"A"`` is ``"C"`` here.
        """
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        dims = tuple(operator.index(n) for n in shape)
        if order == "F":
            return self.T.reshape(dims[::-1]).T
        if order not in ("C", "A"):
            raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
        xp = self._xp
        return LogReal._new(xp.reshape(self._sign, dims), xp.reshape(self._logabs, dims))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d LogReal")
        return self.shape[0]

    def __iter__(self) -> Iterator[LogReal]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d LogReal")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, index: Any) -> LogReal:
        if isinstance(index, LogReal):
            raise TypeError("a LogReal cannot index an array; use a boolean or integer array")
        xp = self._xp
        return LogReal._new(xp.asarray(self._sign[index]), xp.asarray(self._logabs[index]))

    def __setitem__(self, index: Any, value: Any) -> None:
        v = _lift(value, self)
        self._sign[index] = v._sign
        self._logabs[index] = v._logabs

    @property
    def _xp(self) -> Namespace:
        return namespace(self._logabs)

    # -- back to floats -----------------------------------------------------

    def to_real(self) -> Array:
        """The values as floats: overflow gives +-inf, underflow rounds (to -0.0 if negative).

        Examples
        --------
        >>> import logreal as lr
        >>> lr.exp([1000.0, -800.0, -745.0]).to_real()
        array([    inf, 0.e+000, 5.e-324])
        """
        xp, sign, logabs = self._xp, self._sign, self._logabs
        if xp.result_type(sign.dtype, logabs.dtype) != logabs.dtype:  # float16, bfloat16
            sign = widened(sign, logabs, xp)  # else the float32 signs would promote the values
        with np.errstate(over="ignore"):  # beyond float range: +-inf, as documented
            return sign * xp.exp(logabs)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.asarray(self.to_real())
        return out if dtype is None else out.astype(dtype, copy=False)

    def __float__(self) -> float:
        if self.size != 1:
            raise TypeError("only size-1 LogReal arrays convert to a Python float")
        return float(self._xp.reshape(self.to_real(), (-1,))[0])

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                "the truth value of a LogReal with more than one element is ambiguous"
            )
        return bool(self._xp.reshape(self._sign, (-1,))[0] != 0)

    def __hash__(self) -> int:
        if self.ndim != 0:
            raise TypeError("unhashable type: LogReal array (only 0-d LogReals hash)")
        return hash((float(self._sign), float(self._logabs)))

    def __repr__(self) -> str:
        sign, logabs = _format.to_host(self._sign), _format.to_host(self._logabs)
        body = _format.format_array(sign, logabs, logabs.dtype)
        suffix = "" if logabs.dtype == np.float64 else f", dtype={logabs.dtype}"
        return f"LogReal({body}{suffix})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        """A 0-d LogReal formats like a float (``f"{x:.3f}"``), also beyond float range."""
        if not spec:
            return str(self)
        if self.ndim != 0:
            raise TypeError(f"unsupported format string {spec!r} for a LogReal array")
        sign, logabs = _format.to_host(self._sign), _format.to_host(self._logabs)
        return _format.format_scalar(float(sign), float(logabs), spec)

    def __copy__(self) -> LogReal:
        xp = self._xp
        return LogReal._new(xp.asarray(self._sign, copy=True), xp.asarray(self._logabs, copy=True))

    def __deepcopy__(self, memo: dict[int, Any]) -> LogReal:
        return self.__copy__()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._sign, self._logabs))

    # -- arithmetic ---------------------------------------------------------

    def __add__(self, other: Any) -> LogReal:
        return _binary(_add, self, other)

    def __radd__(self, other: Any) -> LogReal:
        return _binary(_add, other, self)

    def __sub__(self, other: Any) -> LogReal:
        return _binary(_subtract, self, other)

    def __rsub__(self, other: Any) -> LogReal:
        return _binary(_subtract, other, self)

    def __mul__(self, other: Any) -> LogReal:
        return _binary(_multiply, self, other)

    def __rmul__(self, other: Any) -> LogReal:
        return _binary(_multiply, other, self)

    def __truediv__(self, other: Any) -> LogReal:
        return _binary(_divide, self, other)

    def __rtruediv__(self, other: Any) -> LogReal:
        return _binary(_divide, other, self)

    def __pow__(self, p: Any) -> LogReal:
        return power(self, p)

    def __rpow__(self, base: Any) -> LogReal:
        if not _accepts(base):
            return NotImplemented
        return power(_lift(base, self), self.to_real())

    def __neg__(self) -> LogReal:
        return LogReal._new(0.0 - self._sign, self._logabs)

    def __pos__(self) -> LogReal:
        return self

    def __abs__(self) -> LogReal:
        return LogReal._new(self._xp.abs(self._sign), self._logabs)

    def __matmul__(self, other: Any) -> LogReal:
        if not _accepts(other):
            return NotImplemented  # e.g. a traced value of lr.grad takes over
        from ._reduce import matmul  # the contraction imports this module

        return matmul(self, other)  # type: ignore[no-any-return]

    def __rmatmul__(self, other: Any) -> LogReal:
        if not _accepts(other):
            return NotImplemented
        from ._reduce import matmul

        return matmul(other, self)  # type: ignore[no-any-return]

    # -- exact comparisons on (sign, logabs) ---------------------------------

    def __eq__(self, other: Any) -> Array:
        return _compare(_equal, self, other)

    def __ne__(self, other: Any) -> Array:
        return _compare(_not_equal, self, other)

    def __lt__(self, other: Any) -> Array:
        return _compare(_less, self, other)

    def __le__(self, other: Any) -> Array:
        return _compare(_less_equal, self, other)

    def __gt__(self, other: Any) -> Array:
        return _compare(_less, other, self)

    def __ge__(self, other: Any) -> Array:
        return _compare(_less_equal, other, self)

    # -- NumPy protocols ----------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        name = f"numpy.{ufunc.__name__}"
        if method != "__call__":
            raise TypeError(f"{name}.{method} is not supported for LogReal")
        if kwargs:
            raise TypeError(f"{name} on a LogReal takes no keywords (got {sorted(kwargs)})")
        from ._dispatch import UFUNCS  # the one table, beside the functions it names

        fn = UFUNCS.get(ufunc)
        if fn is None:
            raise TypeError(f"{name} is not supported for LogReal (no float fallback)")
        return fn(*inputs)

    def __array_function__(
        self, func: Callable[..., Any], types: Any, args: Any, kwargs: Any
    ) -> Any:
        from ._dispatch import FUNCTIONS

        fn = FUNCTIONS.get(func)
        if fn is None:
            name = getattr(func, "__name__", repr(func))
            raise TypeError(f"numpy.{name} is not supported for LogReal (no float fallback)")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------
# Operands and the binary kernels.


def _lift(value: Any, like: LogReal) -> LogReal:
    """``value`` as a LogReal beside ``like``; Python scalars take like's dtype."""
    if isinstance(value, LogReal):
        return value
    if isinstance(value, np.generic) and not isinstance(like._logabs, np.ndarray | np.generic):
        value = value.item()  # beside another backend, a NumPy scalar is a scalar
    if is_python_scalar(value):
        sign, logabs = _from_real(value)
        xp = like._xp
        return LogReal._new(
            xp.asarray(float(sign), dtype=like.dtype), xp.asarray(float(logabs), dtype=like.dtype)
        )
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        raise TypeError(f"LogReal holds real numbers; cannot combine with {value!r}")
    return LogReal(value)


def _operands(a: Any, b: Any) -> tuple[LogReal, LogReal, Namespace]:
    like = a if isinstance(a, LogReal) else b
    assert isinstance(like, LogReal)  # callers pass one LogReal at least
    x, y = _lift(a, like), _lift(b, like)
    _broadcast_shape(x.shape, y.shape)
    xp = namespace(x._logabs, y._logabs)
    if x.dtype != y.dtype:
        dtype = xp.result_type(x.dtype, y.dtype)
        x = LogReal._new(x._sign, xp.astype(x._logabs, dtype))
        y = LogReal._new(y._sign, xp.astype(y._logabs, dtype))
    return x, y, xp


_OPERAND_TYPES = (LogReal, numbers.Real, np.ndarray, np.generic, list, tuple)


def _accepts(value: Any) -> bool:
    """Operands a LogReal owns: numbers and arrays of any array-API backend
    (PyTorch tensors have no ``__array_namespace__``); others (a traced value of
    lr.grad) get ``NotImplemented`` and take over."""
    return isinstance(value, _OPERAND_TYPES) or array_api_compat.is_array_api_obj(value)


def _binary(kernel: Callable[..., LogReal], a: Any, b: Any) -> Any:
    if not (_accepts(a) and _accepts(b)):
        return NotImplemented
    x, y, xp = _operands(a, b)
    return kernel(x, y, xp)


def _add(x: LogReal, y: LogReal, xp: Namespace) -> LogReal:
    return LogReal._new(*signed_add(x._sign, x._logabs, y._sign, y._logabs, xp))


def _subtract(x: LogReal, y: LogReal, xp: Namespace) -> LogReal:
    fused = _fused("signed_subtract", x, y, xp)  # negates y's signs in its loop
    if fused is not None:
        return fused
    return LogReal._new(*signed_add(x._sign, x._logabs, 0.0 - y._sign, y._logabs, xp))


def _fused(name: str, x: LogReal, y: LogReal, xp: Namespace) -> LogReal | None:
    fn = _numba.kernel(name, xp, x._sign, x._logabs, y._sign, y._logabs)
    return None if fn is None else LogReal._new(*fn(x._sign, x._logabs, y._sign, y._logabs))


def _settle(sign: Array, logabs: Array, xp: Namespace) -> LogReal:
    """Canonical form when logabs decides: nan -> sign nan, -inf -> the zero.

    A product or quotient's logabs is -inf for a zero factor and also when the
    sum of logs itself underflows (e**-1e308 * e**-1e308); either way it is zero.
    """
    live = logabs > -math.inf  # False at -inf and at nan
    # Nothing to settle where all are live (one comparison pass); a Dask graph
    # is not asked, which would compute it.
    if array_api_compat.is_dask_array(logabs) or not bool(xp.all(live)):
        sign = xp.where(live, sign, xp.where(logabs == -math.inf, 0.0, logabs))  # 0 or nan
    return LogReal._new(sign, logabs)


def _multiply(x: LogReal, y: LogReal, xp: Namespace) -> LogReal:
    fused = _fused("multiply", x, y, xp)
    if fused is not None:
        return fused
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf = nan; e**a e**b overflows
        return _settle(x._sign * y._sign, x._logabs + y._logabs, xp)


def _divide(x: LogReal, y: LogReal, xp: Namespace) -> LogReal:
    # One zero, so c / 0 is +inf for c > 0 and -inf for c < 0 (and 0 / 0 is nan).
    fused = _fused("divide", x, y, xp)
    if fused is not None:
        return fused
    sign = x._sign * xp.where(y._sign == 0, 1.0, y._sign)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 / 0 and inf / inf = nan
        return _settle(sign, x._logabs - y._logabs, xp)


def power(x: LogReal, p: Any) -> LogReal:
    """``x ** p`` for real exponents ``p`` (broadcast)."""
    if isinstance(p, LogReal):
        p = p.to_real()
    xp = x._xp
    odd_int = None  # the parity of a Python int exponent, which a float may not keep
    shift = 0  # p = float(p) * 2**shift for ints beyond float range
    if type(p) is int and abs(p) > 2**53:
        odd_int = p % 2 == 1
        shift = max(0, abs(p).bit_length() - 100)  # p then fits float32 too
        p = float(p >> shift) if p > 0 else -float(-p >> shift)
    if is_python_scalar(p):
        p = xp.asarray(float(p), dtype=x.dtype)
    elif not _accepts(p):
        return NotImplemented
    else:
        p = as_float(p, xp)
    dtype = xp.result_type(x.dtype, p.dtype)
    p = xp.astype(p, dtype)
    s, la = xp.astype(x._sign, dtype), xp.astype(x._logabs, dtype)
    _broadcast_shape(x.shape, tuple(p.shape))
    integral = xp.isfinite(p) & (p == xp.round(p))
    odd = integral & (xp.remainder(xp.where(integral, p, 0.0), 2.0) == 1.0)
    even = xp.isinf(p) | (integral & ~odd)
    neg_sign = xp.where(odd, -1.0, xp.where(even, xp.ones_like(p), math.nan))
    if odd_int is not None:
        neg_sign = xp.full_like(p, -1.0 if odd_int else 1.0)
    zero_sign = xp.astype(p <= 0, dtype)  # 0 ** p: zero for p > 0, one or inf else
    sign = xp.where(s < 0, neg_sign, xp.where(s == 0, zero_sign, s))
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf = nan; overflow: inf
        scaled = p * la
        while shift:  # exact powers of two: p * la rounded once, or +-inf
            step = min(shift, 100)
            scaled, shift = scaled * 2.0**step, shift - step
        logabs = xp.where(la == 0, 0.0, scaled)  # |x| = 1 stays 1, even for inf or nan p
    one = p == 0  # x ** 0 is 1 for every x, nan included (IEEE pow)
    sign = xp.where(one, 1.0, sign)
    logabs = xp.where(one, 0.0, logabs)
    return LogReal._new(*canonical(sign, logabs, xp))


def _equal(x: LogReal, y: LogReal, xp: Namespace) -> Array:
    return (x._sign == y._sign) & (x._logabs == y._logabs)


def _not_equal(x: LogReal, y: LogReal, xp: Namespace) -> Array:
    return ~_equal(x, y, xp)


def _less(x: LogReal, y: LogReal, xp: Namespace) -> Array:
    # Same sign: compare sign * logabs (reversed order for negatives).  The
    # zero has sign 0 and logabs -inf, whose product is nan: never less.
    with np.errstate(invalid="ignore"):  # the zero: 0 * -inf = nan, never less
        same = (x._sign == y._sign) & (x._sign * x._logabs < y._sign * y._logabs)
    return (x._sign < y._sign) | same


def _less_equal(x: LogReal, y: LogReal, xp: Namespace) -> Array:
    return _less(x, y, xp) | _equal(x, y, xp)


def _compare(kernel: Callable[..., Array], a: Any, b: Any) -> Any:
    if not (_accepts(a) and _accepts(b)):
        return NotImplemented
    x, y, xp = _operands(a, b)
    return kernel(x, y, xp)


# ---------------------------------------------------------------------------
# Elementwise functions between reals and LogReals.


def exp(z: Any) -> LogReal:
    """``e**z`` for real ``z``, exactly: ``logabs = z``, sign +1, never overflows.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.exp([1000.0, -1000.0]) * lr.exp(-1000.0)
    LogReal([1.0, 2.57653587e-869])
    """
    xp = namespace(z)
    z = as_float(z, xp)
    return LogReal.from_log(z, xp.ones_like(z))


def log(x: LogReal) -> Array:
    """Natural log of a LogReal as a real array: -inf at 0, nan for negatives.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.log(lr.LogReal([0.0, -1.0, 1.0]) * lr.exp(1e6))
    array([    -inf,      nan, 1000000.])
    """
    x = _as_logreal(x)
    xp = x._xp
    return xp.where(x._sign < 0, math.nan, x._logabs)  # the zero's logabs is -inf


def sqrt(x: Any) -> LogReal:
    """Square root of a LogReal (nan for negatives).

    Examples
    --------
    >>> import logreal as lr
    >>> lr.sqrt(lr.exp(2000.0)).logabs
    array(1000.)
    """
    return power(_as_logreal(x), 0.5)


def _as_logreal(x: Any) -> LogReal:
    return x if isinstance(x, LogReal) else LogReal(x)


def _ufunc_binary(kernel: Callable[..., Any]) -> Callable[[object, object], Any]:
    def call(a: Any, b: Any) -> Any:
        x, y, xp = _operands(a, b)
        return kernel(x, y, xp)

    return call


# The ufuncs that act on LogReal elementwise; logreal._dispatch adds the rest.
ELEMENTWISE: dict[np.ufunc, Callable[..., Any]] = {
    np.add: _ufunc_binary(_add),
    np.subtract: _ufunc_binary(_subtract),
    np.multiply: _ufunc_binary(_multiply),
    np.divide: _ufunc_binary(_divide),
    np.equal: _ufunc_binary(_equal),
    np.not_equal: _ufunc_binary(_not_equal),
    np.less: _ufunc_binary(_less),
    np.less_equal: _ufunc_binary(_less_equal),
    np.greater: lambda a, b: _ufunc_binary(_less)(b, a),
    np.greater_equal: lambda a, b: _ufunc_binary(_less_equal)(b, a),
    np.negative: lambda a: -a,
    np.positive: lambda a: a,
    np.absolute: abs,
    np.sqrt: sqrt,
    np.log: log,
    np.power: lambda a, b: power(_as_logreal(a), b),
    np.isnan: lambda a: a._xp.isnan(a._logabs),
    np.isinf: lambda a: a._logabs == math.inf,
    np.isfinite: lambda a: a._xp.isfinite(a._logabs) | (a._sign == 0),
}


def np_reshape(a: LogReal, shape: Any = None, order: str = "C", **kw: Any) -> LogReal:
    """``np.reshape`` (NumPy 2: ``shape`` or the old ``newshape``; ``copy`` honoured)."""
    shape = kw.pop("newshape", shape)
    copy = kw.pop("copy", None)
    if kw or shape is None:
        raise TypeError(f"numpy.reshape on a LogReal: unexpected arguments {sorted(kw)}")
    out = a.reshape(shape, order=order)
    return out.__copy__() if copy else out
