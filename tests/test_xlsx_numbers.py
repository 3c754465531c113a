"""Every named block of every committed trace workbook holds the numbers purenet computes.

A workbook's cells carry cached values (what a viewer shows before any
recalculation, and what ``openpyxl.load_workbook(data_only=True)`` reads).
Here those values are compared, block by block, with the numbers the core
modules compute now: network.py (forward, backward_one, backward,
sgd_step), jacobian.py (long_form_one), gradcheck.py (the central
differences) and train.py (momentum_step_).  Each expectation below is
written from the maths, not from the exporter's code, and each test also
asserts that it covered every defined name of its workbook, so a block
added later without a check makes it fail.  The LibreOffice tests
(test_xlsx_trace.py) check the formulas; these check the numbers, without
LibreOffice.
"""

import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

openpyxl = pytest.importorskip("openpyxl")

from openpyxl.utils import column_index_from_string as col_index  # noqa: E402
from purenet.gradcheck import EPS, numerical_grads  # noqa: E402
from purenet.jacobian import long_form_one  # noqa: E402
from purenet.matrix import diag, outer, transpose  # noqa: E402
from purenet.mnist import load_mnist  # noqa: E402
from purenet.network import (Params, backward, backward_one, forward, he_init,  # noqa: E402
                             mean_loss, one_hot, relu_step, sgd_step, softmax_parts)
from purenet.train import momentum_step_  # noqa: E402
from purenet.xlsx.trace import Settings  # noqa: E402
from purenet.xlsx.trace.digit import checked_entries  # noqa: E402
from purenet.xlsx.trace.numbers import tiny_example  # noqa: E402

SPREADSHEETS = Path(__file__).resolve().parents[1] / "spreadsheets"
SETTINGS = Settings()
TOL = 1e-6                      # checks.TOL: PASS when |numeric - backprop| <= TOL max(1, |g|)
Expected = Dict[Tuple[Optional[str], str], list]     # (sheet or None, name) -> rows


# --- reading a workbook -------------------------------------------------------------------

def area(wb, name: str, sheet: Optional[str] = None) -> Tuple[str, int, int, int, int]:
    names = wb[sheet].defined_names if sheet else wb.defined_names
    where, cells = names[name].attr_text.rsplit("!", 1)
    first, _, last = cells.replace("$", "").partition(":")
    c1, r1 = openpyxl.utils.cell.coordinate_from_string(first)
    c2, r2 = openpyxl.utils.cell.coordinate_from_string(last or first)
    return (where.strip("'").replace("''", "'"), r1, col_index(c1), r2 - r1 + 1,
            col_index(c2) - col_index(c1) + 1)


def block(wb, name: str, sheet: Optional[str] = None) -> list:
    title, top, left, rows, cols = area(wb, name, sheet)
    ws = wb[title]
    return [[ws.cell(row=top + i, column=left + j).value for j in range(cols)]
            for i in range(rows)]


def every_name(wb) -> set:
    found = {(None, name) for name in wb.defined_names}
    for ws in wb.worksheets:
        found |= {(ws.title, name) for name in ws.defined_names}
    return found


def agree(a, b) -> bool:
    if isinstance(b, str) or isinstance(a, str):
        return a == b
    return (a is not None and math.isfinite(a)
            and abs(a - b) <= max(1e-12 * max(abs(a), abs(b)), 1e-15))


def compare(wb, expected: Expected) -> List[str]:
    """One line per block whose cached values are not the expected ones."""
    problems = []
    for (sheet, name), rows in sorted(expected.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in rows]
        where = f"{sheet + '!' if sheet else ''}{name}"
        if (sheet, name) not in every_name(wb):
            problems.append(f"{where}: no such defined name")
            continue
        got = block(wb, name, sheet)
        if [len(r) for r in got] != [len(r) for r in rows]:
            problems.append(f"{where}: shape {len(got)} x {len(got[0])}, expected "
                            f"{len(rows)} x {len(rows[0])}")
            continue
        bad = [(i, j, a, b) for i, (ra, rb) in enumerate(zip(got, rows))
               for j, (a, b) in enumerate(zip(ra, rb)) if not agree(a, b)]
        if bad:
            i, j, a, b = bad[0]
            problems.append(f"{where}: {len(bad)} entries differ, e.g. ({i + 1},{j + 1}): "
                            f"{a!r} in the workbook, {b!r} expected")
    return problems


def check_book(name: str, expected: Expected) -> None:
    wb = openpyxl.load_workbook(SPREADSHEETS / name, data_only=True)
    problems = compare(wb, expected)
    assert not problems, "\n".join(problems)
    assert every_name(wb) == set(expected), \
        f"names not checked: {sorted(every_name(wb) - set(expected), key=str)}; " \
        f"expected but missing: {sorted(set(expected) - every_name(wb), key=str)}"


# --- the numbers, from the maths ------------------------------------------------------------

def params_blocks(params: Params, suffix: str = "", sheet: Optional[str] = None) -> Expected:
    """W1, b1, W2, b2 as blocks, copied (momentum_step_ changes its arguments in place)."""
    return {(sheet, "W_1" + suffix): [list(r) for r in params.W1],
            (sheet, "b_1" + suffix): [list(params.b1)],
            (sheet, "W_2" + suffix): [list(r) for r in params.W2],
            (sheet, "b_2" + suffix): [list(params.b2)]}


def forward_blocks(traces, suffix: str = "", sheet: Optional[str] = None) -> Expected:
    parts = [softmax_parts(t.z2) for t in traces]
    out = {(sheet, "z_1" + suffix): [t.z1 for t in traces],
           (sheet, "h" + suffix): [t.h for t in traces],
           (sheet, "z_2" + suffix): [t.z2 for t in traces],
           (sheet, "m" + suffix): [[m] for m, _, _ in parts],
           (sheet, "e" + suffix): [e for _, e, _ in parts],
           (sheet, "s" + suffix): [[s] for _, _, s in parts],
           (sheet, "p" + suffix): [t.p for t in traces],
           (sheet, "L" + suffix): [[t.L] for t in traces]}
    if len(traces) > 1:
        out[(sheet, "L_batch" + suffix)] = [[mean_loss(traces)]]
    return out


def short_form_blocks(params: Params, traces, sheet: Optional[str] = None) -> Expected:
    each = [backward_one(params, t) for t in traces]
    g = backward(params, traces)
    out = {(sheet, "dz_2"): [b.dz2 for b in each], (sheet, "W_2T"): transpose(params.W2),
           (sheet, "dh"): [b.dh for b in each], (sheet, "mask"): [relu_step(t.z1) for t in traces],
           (sheet, "dz_1"): [b.dz1 for b in each], (sheet, "dW_1"): g.W1,
           (sheet, "db_1"): [g.b1], (sheet, "dW_2"): g.W2, (sheet, "db_2"): [g.b2]}
    if len(traces) > 1:
        for k, b in enumerate(each, 1):
            out[(sheet, f"dW_1_ex{k}")] = b.dW1
            out[(sheet, f"dW_2_ex{k}")] = b.dW2
    return out


def one_step_blocks(params: Params, X, Y, lr: float) -> Tuple[Expected, Params]:
    traces = forward(params, X, Y)
    new = sgd_step(params, backward(params, traces), lr)
    out = {(None, "x"): X, (None, "y"): Y, (None, "lr"): [[lr]]}
    out.update(params_blocks(params))
    out.update(forward_blocks(traces))
    out.update(short_form_blocks(params, traces))
    out.update({(None, "new_" + n): v for (_, n), v in params_blocks(new).items()})
    out.update(forward_blocks(forward(new, X, Y), "_after"))
    return out, new


def nudged(params: Params, name: str, i: int, j: int, sign: int) -> Params:
    """A copy of params with entry (i, j) of `name` moved by +EPS or -EPS (gradcheck's way)."""
    work = Params(W1=[list(r) for r in params.W1], b1=list(params.b1),
                  W2=[list(r) for r in params.W2], b2=list(params.b2))
    array = getattr(work, name)
    if name in ("W1", "W2"):
        array[i][j] = array[i][j] + EPS if sign > 0 else array[i][j] - EPS
    else:
        array[i] = array[i] + EPS if sign > 0 else array[i] - EPS
    return work


def check_blocks(params: Params, X, Y, chosen: Dict[str, Sequence[Tuple[int, int]]]
                 ) -> Expected:
    """Sheets Check and Nudges: one forward pass per nudge, the central differences, PASS."""
    traces = forward(params, X, Y)
    grads = backward(params, traces)
    numeric = numerical_grads(params, X, Y)
    out: Expected = {(None, "eps"): [[EPS]], (None, "tol"): [[TOL]]}
    xs = [v for x in X for v in x]
    out[(None, "kink")] = [[min(abs(v) for t in traces for v in t.z1),
                            EPS * max(1.0, max(xs), -min(xs))]]
    worst, passed, count = 0.0, 0, 0
    for name, entries in chosen.items():
        word = name[0] + "_" + name[1]
        for sign, label in ((1, "plus"), (-1, "minus")):
            rows = []
            for i, j in entries:
                work = nudged(params, name, i, j, sign)
                runs = forward(work, X, Y)
                row = list(getattr(work, name)[i] if name in ("W1", "W2") else getattr(work, name))
                for t in runs:
                    m, e, s = softmax_parts(t.z2)
                    row += [*t.z1, *t.h, *t.z2, m, *e, s, t.L]
                if len(X) > 1:
                    row.append(mean_loss(runs))
                rows.append(row)
            out[(None, f"run_{label}_{word}")] = rows
            out[(None, f"L_{label}_{word}")] = [[r[-1]] for r in rows]
        pick = (lambda g, i, j: g[i][j]) if name in ("W1", "W2") else (lambda g, i, j: g[i])
        plus = [r[0] for r in out[(None, f"L_plus_{word}")]]
        minus = [r[0] for r in out[(None, f"L_minus_{word}")]]
        nums = [pick(getattr(numeric, name), i, j) for i, j in entries]
        out[(None, f"numeric_{word}")] = [[a, b, n] for a, b, n in zip(plus, minus, nums)]
        rows = []
        for n, (i, j) in zip(nums, entries):
            g = pick(getattr(grads, name), i, j)
            verdict = "PASS" if abs(n - g) <= TOL * max(1.0, abs(g)) else "FAIL"
            rows.append([g, abs(n - g), verdict])
            worst, passed, count = max(worst, abs(n - g)), passed + (verdict == "PASS"), count + 1
        out[(None, f"check_{word}")] = rows
    out[(None, "checks_total")] = [[worst, passed, count]]
    return out


def every_entry(params: Params) -> Dict[str, List[Tuple[int, int]]]:
    return {"W1": [(i, j) for i in range(len(params.W1)) for j in range(len(params.W1[0]))],
            "b1": [(i, 0) for i in range(len(params.b1))],
            "W2": [(i, j) for i in range(len(params.W2)) for j in range(len(params.W2[0]))],
            "b2": [(i, 0) for i in range(len(params.b2))]}


# --- the four workbooks ---------------------------------------------------------------------

def test_forward_and_short_form_blocks_are_network_pys_numbers():
    params, X, Y = tiny_example(SETTINGS)
    expected, _ = one_step_blocks(params, X, Y, SETTINGS.lr)
    expected.update(check_blocks(params, X, Y, every_entry(params)))
    check_book("forward_and_short_form.xlsx", expected)


def test_the_one_weight_sheet_follows_network_pys_numbers():
    # dL/dW1[2,1] = mean_b sum_k (p_k - y_k) W2[k,2] [z1_2 > 0] x_1, each factor a row.
    params, X, Y = tiny_example(SETTINGS)
    traces = forward(params, X, Y)
    each = [backward_one(params, t) for t in traces]
    ws = openpyxl.load_workbook(SPREADSHEETS / "forward_and_short_form.xlsx",
                                data_only=True)["One weight"]
    rows = {ws.cell(row=r, column=2).value: [ws.cell(row=r, column=3 + b).value for b in range(2)]
            for r in range(5, ws.max_row + 1)}
    assert rows["dh_2 = sum of the 3 products"] == [b.dh[1] for b in each]
    assert rows["[z1_2 > 0]"] == [relu_step(t.z1)[1] for t in traces]
    assert rows["dz1_2 = dh_2 * [z1_2 > 0]"] == [b.dz1[1] for b in each]
    assert rows["dW1[2,1] = dz1_2 * x_1"] == [b.dW1[1][0] for b in each]
    g = backward(params, traces).W1[1][0]
    assert rows["dL/dW1[2,1]: the mean over the 2 examples"][0] == g
    assert rows["new W1[2,1] = W1[2,1] - lr * dW1[2,1]"][0] == params.W1[1][0] - 0.5 * g
    assert rows["L after the step (sheet Update)"][0] == \
        mean_loss(forward(sgd_step(params, backward(params, traces), 0.5), X, Y))


def test_long_form_blocks_are_jacobian_pys_matrices():
    params, X, Y = tiny_example(SETTINGS)
    t = forward(params, X[:1], Y[:1])[0]
    J = long_form_one(params, t).jacobians
    b = backward_one(params, t)
    expected, _ = one_step_blocks(params, X[:1], Y[:1], SETTINGS.lr)
    for key in ("lr",) + tuple(n for _, n in expected if n.startswith("new_") or
                               n.endswith("_after")):
        expected.pop((None, key))
    names = {"dL/dp": "dL_dp", "dp/dz2": "dp_dz2", "dz2/dW2": "dz2_dW2", "dz2/db2": "dz2_db2",
             "dz2/dh": "dz2_dh", "dh/dz1": "dh_dz1", "dz1/dW1": "dz1_dW1", "dz1/db1": "dz1_db1",
             "dL/dz2": "dL_dz2", "dL/dW2": "dL_dW2", "dL/db2": "dL_db2", "dL/dh": "dL_dh",
             "dL/dz1": "dL_dz1", "dL/dW1": "dL_dW1", "dL/db1": "dL_db1", "dp/dh": "dp_dh",
             "dL/dp . dp/dh": "dL_dh_other"}
    assert set(names) == set(J)
    expected.update({(None, names[key]): J[key] for key in J})
    expected[(None, "diag_p")] = diag(t.p)
    expected[(None, "ppT")] = outer(t.p, t.p)
    sums = [sum(row[j] for row in J["dp/dz2"]) for j in range(3)]
    expected[(None, "dp_dz2_sums")] = [sums, ["PASS"] * 3]
    # each product as on paper: its two factors copied beside it, and minus the short form
    short = {"dL/dz2": b.dz2, "dL/dW2": [v for r in b.dW2 for v in r], "dL/db2": b.db2,
             "dL/dh": b.dh, "dL/dz1": b.dz1, "dL/dW1": [v for r in b.dW1 for v in r],
             "dL/db1": b.db1, "dL/dp . dp/dh": b.dh}
    for product, left, right in (("dL/dz2", "dL/dp", "dp/dz2"), ("dL/dW2", "dL/dz2", "dz2/dW2"),
                                 ("dL/db2", "dL/dz2", "dz2/db2"), ("dL/dh", "dL/dz2", "dz2/dh"),
                                 ("dp/dh", "dp/dz2", "dz2/dh"),
                                 ("dL/dp . dp/dh", "dL/dp", "dp/dh"),
                                 ("dL/dz1", "dL/dh", "dh/dz1"), ("dL/dW1", "dL/dz1", "dz1/dW1"),
                                 ("dL/db1", "dL/dz1", "dz1/db1")):
        expected[(None, f"{names[left]}_in_{names[product]}")] = J[left]
        expected[(None, f"{names[right]}_in_{names[product]}")] = J[right]
        if product in short:
            expected[(None, f"{names[product]}_minus_short")] = \
                [[a - s for a, s in zip(J[product][0], short[product])]]
    lf = long_form_one(params, t).grads
    worst = 0.0
    for name, long_, short_ in (("W_1", lf.W1, b.dW1), ("b_1", [lf.b1], [b.db1]),
                                ("W_2", lf.W2, b.dW2), ("b_2", [lf.b2], [b.db2])):
        expected[(None, f"d{name}_long")] = long_
        diffs = [[abs(u - v) for u, v in zip(ru, rv)] for ru, rv in zip(long_, short_)]
        expected[(None, f"d{name}_diff")] = diffs
        worst = max(worst, max(max(r) for r in diffs))
    expected[(None, "largest_diff")] = [[worst, "PASS"]]
    check_book("long_form.xlsx", expected)


def test_training_steps_blocks_are_sgd_and_train_pys_momentum_step_by_step():
    params, X, Y = tiny_example(SETTINGS)
    lr, mu = SETTINGS.lr, SETTINGS.mu
    expected: Expected = {(None, "x"): X, (None, "y"): Y, (None, "lr"): [[lr]],
                          (None, "mu"): [[mu]]}
    expected.update(params_blocks(params, "_start"))
    table = []
    for label in ("Step", "Momentum"):
        theta = Params(W1=[list(r) for r in params.W1], b1=list(params.b1),
                       W2=[list(r) for r in params.W2], b2=list(params.b2))
        v = Params(W1=[[0.0] * len(r) for r in params.W1], b1=[0.0] * len(params.b1),
                   W2=[[0.0] * len(r) for r in params.W2], b2=[0.0] * len(params.b2))
        column = []
        for t in range(1, SETTINGS.steps + 1):
            sheet = f"{label} {t}"
            traces = forward(theta, X, Y)
            g = backward(theta, traces)
            expected.update(params_blocks(theta, sheet=sheet))
            expected.update(forward_blocks(traces, sheet=sheet))
            expected.update(short_form_blocks(theta, traces, sheet))
            if label == "Step":
                new = sgd_step(theta, g, lr)
            else:
                expected.update({(sheet, "v_" + n): r for (_, n), r in params_blocks(v).items()})
                new = Params(W1=[list(r) for r in theta.W1], b1=list(theta.b1),
                             W2=[list(r) for r in theta.W2], b2=list(theta.b2))
                momentum_step_(new, v, g, lr, mu)           # v is now the new v
                expected.update({(sheet, "new_v_" + n): r for (_, n), r in params_blocks(v).items()})
            expected.update({(sheet, "new_" + n): r for (_, n), r in params_blocks(new).items()})
            after = forward(new, X, Y)
            expected.update(forward_blocks(after, "_after", sheet))
            column.append([mean_loss(traces), mean_loss(after)]
                          + [tr.p[y.index(1)] for tr, y in zip(traces, Y)])
            theta = new
        table.append(column)
    expected[(None, "loss_table")] = [sgd + mom for sgd, mom in zip(*table)]
    check_book("training_steps.xlsx", expected)


def test_digit_trace_blocks_are_mnist_and_network_pys_numbers():
    test = load_mnist("test")
    image, label = test.images[0], test.labels[0]
    rows = [list(image[28 * i:28 * (i + 1)]) for i in range(28)]
    x = [sum(sum(row[4 * c:4 * c + 4]) for row in rows[4 * r:4 * r + 4]) / 4080
         for r in range(7) for c in range(7)]
    y = one_hot(label, 10)
    params = he_init((49, 8, 10), SETTINGS.seed)
    expected, _ = one_step_blocks(params, [x], [y], SETTINGS.lr)
    expected[(None, "pixel")] = rows
    expected[(None, "x_tile")] = [x[7 * r:7 * r + 7] for r in range(7)]
    t = forward(params, [x], [y])[0]
    g = backward_one(params, t)
    for i in range(8):
        expected[(None, f"W_1_row{i + 1}")] = [params.W1[i][7 * r:7 * r + 7] for r in range(7)]
        expected[(None, f"dW_1_row{i + 1}")] = [g.dW1[i][7 * r:7 * r + 7] for r in range(7)]
        expected[(None, f"z_1_tile{i + 1}")] = [[t.z1[i]]]
    expected[(None, "p_bars")] = [t.p]
    chosen = checked_entries(label, x)
    assert chosen["W1"][0][1] == max(range(49), key=lambda j: x[j])    # the brightest input
    expected.update(check_blocks(params, [x], [y], chosen))
    check_book("digit_trace.xlsx", expected)


# --- the comparison itself can fail -------------------------------------------------------------

def test_a_wrong_cached_value_in_an_intermediate_block_is_found(tmp_path):
    params, X, Y = tiny_example(SETTINGS)
    expected, _ = one_step_blocks(params, X, Y, SETTINGS.lr)
    wb = openpyxl.load_workbook(SPREADSHEETS / "forward_and_short_form.xlsx", data_only=True)
    title, top, left, _, _ = area(wb, "dh")
    wb[title].cell(row=top + 1, column=left + 2).value += 1e-9
    problems = compare(wb, {k: v for k, v in expected.items() if k[1] in ("dh", "dz_1")})
    assert problems == [f"dh: 1 entries differ, e.g. (2,3): "
                        f"{expected[(None, 'dh')][1][2] + 1e-9!r} in the workbook, "
                        f"{expected[(None, 'dh')][1][2]!r} expected"]
