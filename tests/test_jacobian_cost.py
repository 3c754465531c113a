"""purenet jacobian-cost (purenet/jacobian_cost.py): the long form's cost, measured and extrapolated.

The fit is specified on made-up costs that follow an exact power law; the
command is run on a short ladder and read back: its rows, the long form
growing faster than the short form, the exact entry counts at 784-512-10,
and the budget refusing before anything is measured.
"""

import contextlib
import io
import math
import re

import pytest

from purenet import jacobian_cost as jc
from purenet.cli import main
from purenet.jacobian import BudgetError
from purenet.jacobian import total_entries


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
    assert cost.jacobian_entries == total_entries((4, 3, 2))
    assert cost.long_seconds > 0 and cost.short_seconds > 0
    assert cost.long_bytes > cost.short_bytes > 0


# --- the command ------------------------------------------------------------------

LADDER = ["--hidden", "4,8,16,32,64", "--inputs", "16,32,64,128", "--repeats", "2"]


@pytest.fixture(scope="module")
def output():
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["jacobian-cost", *LADDER])
    assert code == 0
    return buffer.getvalue()


def exponent(output: str, name: str) -> float:
    match = re.search(rf"{name} +~ n_hidden\^([0-9.]+) n_in\^([0-9.]+)", output)
    assert match, name
    return float(match.group(1))


def test_the_table_has_a_row_per_size_with_its_exact_entry_count(output):
    for n_hidden in (4, 8, 16, 32, 64):
        sizes = (16, n_hidden, 10)
        assert re.search(rf"^16-{n_hidden}-10 +{total_entries(sizes):,} ", output, re.M)
    for n_in in (16, 32, 64, 128):
        sizes = (n_in, 16, 10)
        assert re.search(rf"^{n_in}-16-10 +{total_entries(sizes):,} ", output, re.M)
    assert "16-2-10" not in output                  # only the ladder asked for


def test_the_long_form_grows_faster_with_n_hidden_than_the_short_form(output):
    # about 1.7 against 1.0 on this ladder (2 and 1 in the limit)
    assert exponent(output, "long form memory") > exponent(output, "short form memory") + 0.3
    assert exponent(output, "long form time") > exponent(output, "short form time") + 0.3


def test_the_extrapolation_names_the_exact_jacobian_sizes_at_784_512_10(output):
    assert re.search(r"dz1/dW1 +512 x +401,408 = +205,520,896$", output, re.M)
    assert re.search(r"total +206,509,798$", output, re.M)
    assert re.search(r"^  long form +~ .+ ~ .+B$", output, re.M)
    assert "short form measured at 784-512-10" in output


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
