"""matrix.py, specified by hand-worked values.

Every expected number below is worked out on paper in the comment beside
it, so a reader can check the arithmetic without running anything.  The
inputs are small integers (as floats), so every result is exact and the
comparisons use ==.
"""

import copy as copy_module

import pytest

from purenet import matrix as M

# A is 2 x 3, B is 3 x 2: small enough to multiply by hand.
A = [[1.0, 2.0, 3.0],
     [4.0, 5.0, 6.0]]
B = [[7.0, 8.0],
     [9.0, 10.0],
     [11.0, 12.0]]


# --- shapes and building ----------------------------------------------------

def test_shape_is_rows_then_columns():
    assert M.shape(A) == (2, 3)
    assert M.shape(B) == (3, 2)
    assert M.shape([]) == (0, 0)          # no rows: no columns either


def test_shape_rejects_a_ragged_matrix():
    with pytest.raises(ValueError, match="ragged"):
        M.shape([[1.0, 2.0], [3.0]])


def test_zeros_has_independent_rows():
    Z = M.zeros(2, 3)
    assert Z == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    Z[0][0] = 5.0
    assert Z[1][0] == 0.0  # a shared row ([row] * 2) would have changed too


def test_identity():
    assert M.identity(3) == [[1.0, 0.0, 0.0],
                             [0.0, 1.0, 0.0],
                             [0.0, 0.0, 1.0]]


def test_identity_is_neutral_for_matmul():
    assert M.matmul(M.identity(2), A) == A
    assert M.matmul(A, M.identity(3)) == A


def test_diag_puts_the_vector_on_the_diagonal():
    assert M.diag([2.0, -1.0, 0.5]) == [[2.0, 0.0, 0.0],
                                        [0.0, -1.0, 0.0],
                                        [0.0, 0.0, 0.5]]


def test_row_and_column_matrices():
    assert M.row_matrix([1.0, 2.0]) == [[1.0, 2.0]]
    assert M.column_matrix([1.0, 2.0]) == [[1.0], [2.0]]


def test_flatten_goes_row_by_row():
    # A[i][j] lands at index i * cols + j: A[1][0] = 4 at index 1 * 3 + 0 = 3.
    assert M.flatten(A) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert M.flatten(A)[1 * 3 + 0] == A[1][0]


def test_reshape_is_the_inverse_of_flatten():
    assert M.reshape(M.flatten(A), 2, 3) == A
    assert M.reshape(M.flatten(B), 3, 2) == B
    v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert M.flatten(M.reshape(v, 3, 2)) == v


def test_reshape_refuses_the_wrong_count():
    with pytest.raises(ValueError, match=r"5 entries.*\(2, 3\)"):
        M.reshape([1.0, 2.0, 3.0, 4.0, 5.0], 2, 3)


def test_copy_is_deep_for_rows():
    C = M.copy(A)
    assert C == A
    C[0][0] = 99.0
    assert A[0][0] == 1.0


# --- products ---------------------------------------------------------------

def test_dot():
    # 1*4 + 2*(-5) + 3*6 = 4 - 10 + 18 = 12
    assert M.dot([1.0, 2.0, 3.0], [4.0, -5.0, 6.0]) == 12.0


def test_transpose():
    assert M.transpose(A) == [[1.0, 4.0],
                              [2.0, 5.0],
                              [3.0, 6.0]]
    assert M.transpose(M.transpose(A)) == A


def test_matvec():
    # [1 2 3] . [1 0 -1] = 1 - 3 = -2;  [4 5 6] . [1 0 -1] = 4 - 6 = -2
    assert M.matvec(A, [1.0, 0.0, -1.0]) == [-2.0, -2.0]
    # [1 2 3] . [1 1 1] = 6;  [4 5 6] . [1 1 1] = 15
    assert M.matvec(A, [1.0, 1.0, 1.0]) == [6.0, 15.0]


def test_matmul_2x3_by_3x2_by_hand():
    # (AB)_00 = 1*7 + 2*9  + 3*11 = 7 + 18 + 33 = 58
    # (AB)_01 = 1*8 + 2*10 + 3*12 = 8 + 20 + 36 = 64
    # (AB)_10 = 4*7 + 5*9  + 6*11 = 28 + 45 + 66 = 139
    # (AB)_11 = 4*8 + 5*10 + 6*12 = 32 + 50 + 72 = 154
    assert M.matmul(A, B) == [[58.0, 64.0],
                              [139.0, 154.0]]


def test_matmul_3x2_by_2x3_gives_3x3():
    # (BA)_00 = 7*1 + 8*4 = 39;  (BA)_12 = 9*3 + 10*6 = 87;  (BA)_21 = 11*2 + 12*5 = 82
    BA = M.matmul(B, A)
    assert M.shape(BA) == (3, 3)
    assert BA[0][0] == 39.0
    assert BA[1][2] == 87.0
    assert BA[2][1] == 82.0


def test_matvec_agrees_with_matmul_by_a_column():
    v = [2.0, -1.0, 0.5]
    assert M.matvec(A, v) == [row[0] for row in M.matmul(A, M.column_matrix(v))]


def test_outer():
    # (u v^T)_ij = u_i v_j
    assert M.outer([1.0, 2.0], [3.0, 4.0, 5.0]) == [[3.0, 4.0, 5.0],
                                                    [6.0, 8.0, 10.0]]


def test_outer_is_a_column_times_a_row():
    u, v = [1.0, -2.0], [3.0, 0.5, 4.0]
    assert M.outer(u, v) == M.matmul(M.column_matrix(u), M.row_matrix(v))


# --- elementwise ------------------------------------------------------------

def test_add_sub_hadamard_scale_on_vectors():
    u, v = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]
    assert M.add(u, v) == [11.0, 22.0, 33.0]
    assert M.sub(u, v) == [-9.0, -18.0, -27.0]
    assert M.hadamard(u, v) == [10.0, 40.0, 90.0]
    assert M.scale(-2.0, u) == [-2.0, -4.0, -6.0]


def test_madd_msub_mscale_on_matrices():
    assert M.madd(A, A) == [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]
    assert M.msub(A, A) == M.zeros(2, 3)
    assert M.mscale(0.5, A) == [[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]]


def test_axpy_updates_only_its_first_argument():
    y = [1.0, 1.0, 1.0]
    x = [1.0, 2.0, 3.0]
    x_before = list(x)
    result = M.axpy_(y, 2.0, x)
    # y <- y + 2 x = [1 + 2, 1 + 4, 1 + 6]
    assert y == [3.0, 5.0, 7.0]
    assert x == x_before
    assert result is None  # an in-place update returns nothing, like list.sort


# --- reductions -------------------------------------------------------------

def test_argmax():
    assert M.argmax([0.1, 0.7, 0.2]) == 1
    assert M.argmax([-3.0, -1.0, -2.0]) == 1


def test_argmax_takes_the_first_of_a_tie():
    assert M.argmax([0.2, 0.4, 0.4, 0.1]) == 1
    assert M.argmax([5.0, 5.0]) == 0


def test_argmax_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="^argmax of an empty vector$"):
        M.argmax([])


def test_max_abs():
    assert M.max_abs([[1.0, -7.0], [3.0, 2.0]]) == 7.0
    assert M.max_abs([]) == 0.0


# --- shape errors name both shapes -------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: M.matmul(A, A), "matmul: shapes (2, 3) and (2, 3) do not match"),
    (lambda: M.matmul(A, [[1.0, 2.0], [3.0, 4.0]]), "matmul: shapes (2, 3) and (2, 2) do not match"),
    (lambda: M.matvec(A, [1.0, 2.0]), "matvec: shapes (2, 3) and (2,) do not match"),
    (lambda: M.madd(A, B), "madd: shapes (2, 3) and (3, 2) do not match"),
    (lambda: M.msub(A, B), "msub: shapes (2, 3) and (3, 2) do not match"),
    (lambda: M.dot([1.0, 2.0], [1.0, 2.0, 3.0]), "dot: vectors of length 2 and 3 do not match"),
    (lambda: M.add([1.0, 2.0], [1.0, 2.0, 3.0]), "add: vectors of length 2 and 3 do not match"),
    (lambda: M.sub([1.0], [1.0, 2.0, 3.0, 4.0]), "sub: vectors of length 1 and 4 do not match"),
    (lambda: M.hadamard([1.0, 2.0, 3.0, 4.0, 5.0], [1.0]),
     "hadamard: vectors of length 5 and 1 do not match"),
    (lambda: M.axpy_([1.0, 2.0], 1.0, [1.0, 2.0, 3.0]),
     "axpy_: vectors of length 2 and 3 do not match"),
    (lambda: M.madd([[1.0, 2.0]], [[1.0, 2.0], [3.0]]), "ragged matrix: rows of length 2 and 1"),
])
def test_a_shape_mismatch_raises_value_error_naming_the_function_and_both_shapes(call, message):
    # The function first, then both shapes in argument order.
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message


# --- nothing is mutated ------------------------------------------------------

U = [1.0, -2.0, 3.0]
V = [0.5, 4.0, -1.0]

PURE_CALLS = [
    ("shape", (A,)),
    ("identity", (3,)),
    ("diag", (U,)),
    ("row_matrix", (U,)),
    ("column_matrix", (U,)),
    ("flatten", (A,)),
    ("reshape", ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2)),
    ("copy", (A,)),
    ("dot", (U, V)),
    ("transpose", (A,)),
    ("matvec", (A, U)),
    ("matmul", (A, B)),
    ("outer", (U, V)),
    ("add", (U, V)),
    ("sub", (U, V)),
    ("hadamard", (U, V)),
    ("scale", (2.0, U)),
    ("madd", (A, A)),
    ("msub", (A, A)),
    ("mscale", (2.0, A)),
    ("argmax", (U,)),
    ("max_abs", (A,)),
]


@pytest.mark.parametrize("name, args", PURE_CALLS, ids=[name for name, _ in PURE_CALLS])
def test_no_function_mutates_its_arguments(name, args):
    before = copy_module.deepcopy(args)
    getattr(M, name)(*args)
    assert args == before


@pytest.mark.parametrize("name, args", [
    ("diag", (U,)), ("row_matrix", (U,)), ("column_matrix", (U,)), ("copy", (A,)),
    ("transpose", (A,)), ("reshape", ([1.0, 2.0, 3.0, 4.0], 2, 2)), ("scale", (1.0, U)),
    ("mscale", (1.0, A)),
])
def test_results_share_no_list_with_the_arguments(name, args):
    # Writing into a result must not write into an input: every list is new.
    result = getattr(M, name)(*args)
    before = copy_module.deepcopy(args)
    rows = result if isinstance(result[0], list) else [result]
    for row in rows:
        for k in range(len(row)):
            row[k] = 123.0
    assert args == before


def test_the_module_knows_nothing_about_networks():
    # One place for each idea: no import of the network from the matrix module.
    import inspect
    source = inspect.getsource(M)
    assert "import network" not in source
    assert "from .network" not in source


def test_total_adds_left_to_right_on_every_python():
    # (1e16 + 1) rounds back to 1e16 in float64, so strictly left to right
    # 1e16 + 1 - 1e16 is 0.0; Python 3.12's compensated sum() would give 1.0.
    assert M.total([1e16, 1.0, -1e16]) == 0.0
    assert M.dot([1e16, 1.0, -1e16], [1.0, 1.0, 1.0]) == 0.0
    assert M.total([0.5, 0.25, 0.125]) == 0.875
    assert M.total([]) == 0.0
