"""purenet jacobian-cost (purenet/jacobian_cost.py): the long form's cost, measured and extrapolated.

The fit is specified on made-up costs that follow an exact power law; the
growth of the two forms on what is exact: the entries of the matrices each
one builds (counted from jacobian.jacobian_shapes and from what
network.backward_one returns) and the bytes tracemalloc sees allocated
(the same on every run of a CPython, unlike time); the command is run on a
short ladder and read back: its rows, the exact entry counts at
784-512-10, and the budget refusing before anything is measured.

No test here reads a time: how long something took depends on what else
the machine was doing.  The command prints the times and their fitted
growth for a person to read.
"""

import contextlib
import io
import math
import platform
import re

import pytest

from purenet import jacobian_cost as jc
from purenet.cli import main
from purenet.jacobian import BYTES_PER_ENTRY, BudgetError, jacobian_shapes, total_entries
from purenet.network import backward_one


def fake_cost(sizes, seconds, nbytes) -> jc.Cost:
    return jc.Cost(sizes=sizes, long_seconds=seconds, long_bytes=nbytes,
                   short_seconds=seconds, short_bytes=nbytes)


# --- the fit ----------------------------------------------------------------------

def test_slope_of_a_straight_line():
    # y = 3 - 2x
    assert jc.slope([0.0, 1.0, 2.0, 3.0], [3.0, 1.0, -1.0, -3.0]) == pytest.approx(-2.0)


def test_slope_needs_two_different_sizes():
    with pytest.raises(ValueError):
        jc.slope([math.log(4), math.log(4)], [1.0, 2.0])


def test_a_power_law_is_fitted_exactly_and_extrapolated():
    # c = 5e-9 n_hidden^2 n_in: the long form's shape of growth
    def c(n_in, n_hidden):
        return 5e-9 * n_hidden ** 2 * n_in

    hidden = [fake_cost((16, h, 10), c(16, h), 1) for h in (8, 16, 32)]
    inputs = [fake_cost((n, 16, 10), c(n, 16), 1) for n in (64, 128, 256)]
    g = jc.fit_growth(hidden, inputs, lambda r: r.long_seconds)
    assert g.p == pytest.approx(2.0, abs=1e-12)
    assert g.q == pytest.approx(1.0, abs=1e-12)
    assert g.at((784, 512, 10)) == pytest.approx(c(784, 512), rel=1e-12)   # 1.0274816 s


def test_fit_all_uses_only_the_largest_sizes_of_each_ladder():
    # Below 32 the cost is flat (a fixed price per call); above, it grows as n_hidden^2.
    def seconds(h):
        return 1e-3 * max(h, 32) ** 2

    hidden = [fake_cost((16, h, 10), seconds(h), 100) for h in (2, 4, 8, 32, 64, 128)]
    inputs = [fake_cost((n, 16, 10), 1e-3 * n, 100) for n in (16, 32, 64)]
    fits = jc.fit_all(hidden, inputs, fit_rows=3)
    assert fits["long form time"].p == pytest.approx(2.0, abs=1e-12)
    assert jc.fit_all(hidden, inputs, fit_rows=6)["long form time"].p < 1.5


def test_measure_checks_the_budget_before_running():
    with pytest.raises(BudgetError, match="16-64-10"):
        jc.measure((16, 64, 10), repeats=1, max_entries=10_000)


def test_measure_one_small_size():
    cost = jc.measure((4, 3, 2), repeats=1)
    assert cost.sizes == (4, 3, 2)
    assert cost.jacobian_entries == total_entries((4, 3, 2)) == 122


# --- how the two forms grow, on what is exact ------------------------------------------

def long_form_entries(n_in: int, n_hidden: int, n_out: int) -> int:
    """The entries of every matrix in jacobian.py's docstring, added up by hand."""
    jacobians = (n_out                                  # dL/dp
                 + n_out * n_out                        # dp/dz2
                 + n_out * n_out * n_hidden             # dz2/dW2
                 + n_out * n_out                        # dz2/db2
                 + n_out * n_hidden                     # dz2/dh
                 + n_hidden * n_hidden                  # dh/dz1
                 + n_hidden * n_hidden * n_in           # dz1/dW1
                 + n_hidden * n_hidden)                 # dz1/db1
    products = n_out + n_out * n_hidden + n_out + n_hidden + n_hidden + n_hidden * n_in + n_hidden
    other_bracketing = n_out * n_hidden + n_hidden       # dp/dh, and dL/dp . dp/dh
    return jacobians + products + other_bracketing


def short_form_entries(sizes) -> int:
    """The entries of everything network.backward_one builds for one example."""
    params, trace = jc.example(sizes)
    b = backward_one(params, trace)
    vectors = (b.dz2, b.db2, b.dh, b.dz1, b.db1)
    return sum(map(len, vectors)) + sum(len(row) for A in (b.dW2, b.dW1) for row in A)


@pytest.mark.parametrize("sizes", [(4, 3, 2), (16, 8, 10), (16, 256, 10), (1024, 16, 10),
                                   (784, 512, 10)])
def test_the_long_form_entries_are_the_sum_of_its_matrices(sizes):
    assert total_entries(sizes) == long_form_entries(*sizes)


def test_the_largest_long_form_matrix_is_dz1_dW1_with_n_hidden_squared_n_in_entries():
    sizes = (784, 512, 10)
    name, rows, cols = max(jacobian_shapes(sizes), key=lambda s: s[1] * s[2])
    assert (name, rows * cols) == ("dz1/dW1", 512 * 512 * 784)


def test_doubling_n_hidden_quadruples_the_long_form_but_doubles_the_short_form():
    # exact counts along the default hidden ladder (n_in 16, n_out 10): the
    # long form's ratio climbs to 4 (3.59, 3.78, 3.88), the short form's to 2
    for n_hidden in (32, 64, 128):
        small, large = (16, n_hidden, 10), (16, 2 * n_hidden, 10)
        assert 3.5 < total_entries(large) / total_entries(small) < 4.0
        assert 1.9 < short_form_entries(large) / short_form_entries(small) <= 2.0
    # and at MNIST's size: 206,515,430 entries against 408,084
    assert short_form_entries((784, 512, 10)) == 512 * 784 + 10 * 512 + 3 * 512 + 2 * 10 == 408_084
    assert total_entries((784, 512, 10)) // short_form_entries((784, 512, 10)) == 506


def test_doubling_n_in_doubles_both_forms():
    # both are linear in n_in (the ratios climb to 2: 1.93, 1.96, 1.98 and 1.90, 1.95, 1.97)
    for n_in in (128, 256, 512):
        small, large = (n_in, 16, 10), (2 * n_in, 16, 10)
        assert 1.9 < total_entries(large) / total_entries(small) < 2.0
        assert 1.85 < short_form_entries(large) / short_form_entries(small) < 2.0


cpython_only = pytest.mark.skipif(platform.python_implementation() != "CPython",
                                  reason="tracemalloc counts allocated bytes on CPython only")


def test_without_tracemalloc_memory_is_not_measured_nor_fitted(monkeypatch):
    # PyPy has no tracemalloc: memory is None (printed "-") and only time is fitted.
    monkeypatch.setattr(jc, "memory_measurable", lambda: False)
    cost = jc.measure((4, 3, 2), repeats=1)
    assert cost.long_bytes is None and cost.short_bytes is None
    hidden = [jc.measure((4, h, 2), repeats=1) for h in (2, 3)]
    inputs = [jc.measure((n, 2, 2), repeats=1) for n in (4, 5)]
    assert sorted(jc.fit_all(hidden, inputs, fit_rows=2)) == ["long form time",
                                                              "short form time"]


@cpython_only
def test_the_long_form_allocates_at_least_one_pointer_per_entry_of_dz1_dW1():
    sizes = (16, 64, 10)
    cost = jc.measure(sizes, repeats=1)
    assert cost.long_bytes >= BYTES_PER_ENTRY * 64 * 64 * 16      # 524,288 bytes
    assert cost.short_bytes >= BYTES_PER_ENTRY * 64 * 16          # dW1 alone: 8,192 bytes
    assert cost.long_bytes > 10 * cost.short_bytes


@cpython_only
def test_the_long_forms_bytes_grow_faster_with_n_hidden_than_the_short_forms():
    # measured on CPython 3.11: 379,260 -> 1,311,676 bytes (x3.46) for the long
    # form, 27,504 -> 56,432 (x2.05) for the short form
    small, large = jc.measure((16, 32, 10), repeats=1), jc.measure((16, 64, 10), repeats=1)
    assert large.long_bytes / small.long_bytes > 3.0
    assert large.short_bytes / small.short_bytes < 2.5


# --- the command ------------------------------------------------------------------

LADDER = ["--hidden", "4,8,16,32,64", "--inputs", "16,32,64,128", "--repeats", "2"]


@pytest.fixture(scope="module")
def output():
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["jacobian-cost", *LADDER])
    assert code == 0
    return buffer.getvalue()




def test_the_table_has_a_row_per_size_with_its_exact_entry_count(output):
    for n_hidden in (4, 8, 16, 32, 64):
        sizes = (16, n_hidden, 10)
        assert re.search(rf"^16-{n_hidden}-10 +{total_entries(sizes):,} ", output, re.M)
    for n_in in (16, 32, 64, 128):
        sizes = (n_in, 16, 10)
        assert re.search(rf"^{n_in}-16-10 +{total_entries(sizes):,} ", output, re.M)
    assert "16-2-10" not in output                  # only the ladder asked for


def fitted(name: str, output: str) -> bool:
    return bool(re.search(rf"^  {name} +~ n_hidden\^-?[0-9.]+ n_in\^-?[0-9.]+$", output, re.M))


def test_the_fitted_growth_of_each_time_is_printed(output):
    # the exponents themselves depend on the machine's load: shown, not tested
    assert fitted("long form time", output) and fitted("short form time", output)


@cpython_only
def test_the_fitted_growth_of_each_memory_is_printed(output):
    assert fitted("long form memory", output) and fitted("short form memory", output)


def test_the_memory_column_says_whether_it_was_measured(output):
    expected = "tracemalloc peak of one run" if jc.memory_measurable() else jc.NO_MEMORY
    assert f"memory: {expected}" in output


def test_the_extrapolation_names_the_exact_jacobian_sizes_at_784_512_10(output):
    assert re.search(r"dz1/dW1 +512 x +401,408 = +205,520,896$", output, re.M)
    assert re.search(r"total +206,515,430$", output, re.M)   # with dp/dh and dL/dp . dp/dh
    assert re.search(r"^  long form +~ +[0-9.]+ [a-z]+ +~ ", output, re.M)
    assert "short form measured at 784-512-10" in output


@cpython_only
def test_the_extrapolated_memory_is_in_bytes(output):
    assert re.search(r"^  long form +~ .+ ~ .+B$", output, re.M)


def test_the_budget_is_printed(output):
    assert "memory budget: 50,000,000 Jacobian entries per size, at least 400 MB" in output


def test_a_ladder_over_the_budget_is_refused_before_anything_runs(capsys):
    code = main(["jacobian-cost", *LADDER, "--max-entries", "20000"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""                       # not a single size was measured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("purenet: error: long form refused for 16-32-10")


@pytest.mark.parametrize("flags", [["--hidden", "8,8"], ["--inputs", "0,4"], ["--hidden", "a,b"],
                                   ["--fit-rows", "1"]])
def test_bad_ladders_are_usage_errors(capsys, flags):
    with pytest.raises(SystemExit) as exit_:
        code = main(["jacobian-cost", *flags])
        raise SystemExit(code)
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
