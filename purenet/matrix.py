"""Vectors and matrices as plain Python lists.

A ``Vector`` is a list of floats, ``v = [v_0, ..., v_{n-1}]``.
A ``Matrix`` is a list of rows, ``A = [[A_00, A_01, ...], [A_10, ...], ...]``;
its shape is ``(rows, cols)`` and ``A[i][j]`` is row i, column j.

The operations, in the notation the rest of purenet uses:

    total(v)         = v_0 + v_1 + ...   (left to right, the same bits on every Python)
    dot(u, v)        = sum_i u_i v_i
    matvec(A, v)_i   = sum_j A_ij v_j                 (A is m x n, v has n)
    matmul(A, B)_ij  = sum_k A_ik B_kj                (m x n times n x p -> m x p)
    transpose(A)_ij  = A_ji
    outer(u, v)_ij   = u_i v_j
    add, sub         elementwise u + v, u - v         (vectors)
    scale(c, v)      = c v                            (a vector)
    hadamard(u, v)_i = u_i v_i
    madd, msub       elementwise A + B, A - B         (matrices)
    mscale(c, A)     = c A                            (a matrix)

The vector and matrix versions are separate on purpose: Python's ``+`` on
two lists joins them, so ``add`` given two matrices would join their rows
instead of adding them.

This module knows nothing about neural networks: it is the small linear
algebra a network is built from.  Every function returns a new list and
leaves its arguments alone, except the ones whose name ends in ``_``
(``axpy_``), which update their first argument in place and say so.

A shape mismatch raises ``ValueError`` naming both shapes, so a mistake
shows up where it is made rather than as a wrong number later.

The code is written for reading, not speed: each function is the formula
above as a Python expression.  The training loop's faster kernels live in
``purenet/speed`` and are tested against these.
"""

from typing import Iterable, List, Sequence, Tuple

Vector = List[float]
Matrix = List[List[float]]
Shape = Tuple[int, int]


# --- shapes -----------------------------------------------------------------

def shape(A: Matrix) -> Shape:
    """(rows, cols) of a matrix; every row must have the same length."""
    rows = len(A)
    cols = len(A[0]) if rows else 0
    for row in A:
        if len(row) != cols:
            raise ValueError(f"ragged matrix: rows of length {cols} and {len(row)}")
    return rows, cols


def _check_same_length(u: Sequence[float], v: Sequence[float], what: str) -> None:
    if len(u) != len(v):
        raise ValueError(f"{what}: vectors of length {len(u)} and {len(v)} do not match")


def _check_same_shape(A: Matrix, B: Matrix, what: str) -> None:
    if shape(A) != shape(B):
        raise ValueError(f"{what}: shapes {shape(A)} and {shape(B)} do not match")


# --- building ---------------------------------------------------------------

def zeros(rows: int, cols: int) -> Matrix:
    """A rows x cols matrix of 0.0 (each row a separate list)."""
    return [[0.0] * cols for _ in range(rows)]


def zeros_vector(n: int) -> Vector:
    return [0.0] * n


def identity(n: int) -> Matrix:
    """The n x n identity matrix I, with I_ij = 1 if i == j else 0."""
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def diag(v: Vector) -> Matrix:
    """The square matrix with v on its diagonal and 0 elsewhere."""
    n = len(v)
    return [[v[i] if i == j else 0.0 for j in range(n)] for i in range(n)]


def row_matrix(v: Vector) -> Matrix:
    """v as a 1 x n matrix (a row vector), so it can enter a matmul."""
    return [list(v)]


def column_matrix(v: Vector) -> Matrix:
    """v as an n x 1 matrix (a column vector)."""
    return [[vi] for vi in v]


def flatten(A: Matrix) -> Vector:
    """The entries of A row by row: A_ij lands at index i * cols + j."""
    return [a for row in A for a in row]


def reshape(v: Vector, rows: int, cols: int) -> Matrix:
    """Inverse of flatten: index i * cols + j becomes entry (i, j)."""
    if len(v) != rows * cols:
        raise ValueError(f"reshape: {len(v)} entries cannot fill shape {(rows, cols)}")
    return [list(v[i * cols:(i + 1) * cols]) for i in range(rows)]


def copy(A: Matrix) -> Matrix:
    return [list(row) for row in A]


# --- products ---------------------------------------------------------------

def total(values: Iterable[float]) -> float:
    """v_0 + v_1 + v_2 + ..., added strictly left to right.

    Not the built-in sum(): from Python 3.12 it adds floats with
    compensation, so the same numbers can differ in the last bit between
    Pythons.  A plain loop gives every supported Python the same bits, which
    is what keeps the committed spreadsheets reproducible byte for byte.
    """
    s = 0.0
    for v in values:
        s += v
    return s


def dot(u: Vector, v: Vector) -> float:
    """u . v = sum_i u_i v_i"""
    _check_same_length(u, v, "dot")
    return total(ui * vi for ui, vi in zip(u, v))


def transpose(A: Matrix) -> Matrix:
    """A^T, with (A^T)_ij = A_ji."""
    rows, cols = shape(A)
    return [[A[i][j] for i in range(rows)] for j in range(cols)]


def matvec(A: Matrix, v: Vector) -> Vector:
    """A v, with (A v)_i = sum_j A_ij v_j."""
    rows, cols = shape(A)
    if cols != len(v):
        raise ValueError(f"matvec: shapes {(rows, cols)} and ({len(v)},) do not match")
    return [dot(row, v) for row in A]


def matmul(A: Matrix, B: Matrix) -> Matrix:
    """A B, with (A B)_ij = sum_k A_ik B_kj."""
    (m, n), (n2, p) = shape(A), shape(B)
    if n != n2:
        raise ValueError(f"matmul: shapes {(m, n)} and {(n2, p)} do not match")
    B_columns = transpose(B)
    return [[dot(row, col) for col in B_columns] for row in A]


def outer(u: Vector, v: Vector) -> Matrix:
    """u v^T, with (u v^T)_ij = u_i v_j."""
    return [[ui * vj for vj in v] for ui in u]


# --- elementwise ------------------------------------------------------------

def add(u: Vector, v: Vector) -> Vector:
    _check_same_length(u, v, "add")
    return [ui + vi for ui, vi in zip(u, v)]


def sub(u: Vector, v: Vector) -> Vector:
    _check_same_length(u, v, "sub")
    return [ui - vi for ui, vi in zip(u, v)]


def hadamard(u: Vector, v: Vector) -> Vector:
    """Elementwise product, (u * v)_i = u_i v_i."""
    _check_same_length(u, v, "hadamard")
    return [ui * vi for ui, vi in zip(u, v)]


def scale(c: float, v: Vector) -> Vector:
    return [c * vi for vi in v]


def madd(A: Matrix, B: Matrix) -> Matrix:
    """A + B for matrices."""
    _check_same_shape(A, B, "madd")
    return [add(a, b) for a, b in zip(A, B)]


def msub(A: Matrix, B: Matrix) -> Matrix:
    """A - B for matrices."""
    _check_same_shape(A, B, "msub")
    return [sub(a, b) for a, b in zip(A, B)]


def mscale(c: float, A: Matrix) -> Matrix:
    """c A for a matrix."""
    return [scale(c, row) for row in A]


def axpy_(y: Vector, a: float, x: Vector) -> None:
    """y <- y + a x, in place (the trailing _ says y is changed)."""
    _check_same_length(y, x, "axpy_")
    for i, xi in enumerate(x):
        y[i] += a * xi


# --- reductions -------------------------------------------------------------

def argmax(v: Vector) -> int:
    """Index of the largest entry (the first one, on a tie)."""
    if not v:
        raise ValueError("argmax of an empty vector")
    best = 0
    for i, vi in enumerate(v):
        if vi > v[best]:
            best = i
    return best


def max_abs(A: Matrix) -> float:
    """max_ij |A_ij| (0.0 for an empty matrix)."""
    return max((abs(a) for row in A for a in row), default=0.0)
