"""Live checks: central differences computed by the workbook's own formulas.

For a parameter entry theta (W1[i,j], b1_i, W2[k,j] or b2_k):

    dL/dtheta  ~  (L(theta + eps) - L(theta - eps)) / (2 eps),   eps = 1e-5

The sheet **Nudges** runs the whole forward pass of the mini-batch again
for each checked entry and each sign, one row per pass: the row of the
parameter that holds theta, copied with theta moved by +eps or -eps, then
z1, h, z2, m, e, s and L of each example computed from it exactly as on
**Forward**, and the mini-batch's L.  The sheet **Check** divides the
difference of the two losses by 2 eps, beside backprop's value from
**Short form**, and says

    PASS   when |numeric - backprop| <= tol * max(1, |backprop|),  tol = 1e-6
    KINK   when they differ but some |z1_i| is within one nudge of 0: the
           central difference then straddles ReLU's kink and is not the
           derivative (an edit can put a unit there; the examples start
           at least 1e-3 away)
    FAIL   otherwise

so that after any edit of x, y, a weight or lr, every check recomputes and
still reads PASS.  The cached values are network.forward's on the nudged
parameters (numbers.nudge), the same passes gradcheck.numerical_grads makes.
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from ...gradcheck import EPS
from ...network import softmax_parts
from ..book import Book, Sheet
from ..cells import CHECK, INTEGER, PRECISE, SMALL, VALUE, Area, Block, Formula, Ref, symbol_name
from .layout import ForwardBlocks, ParamBlocks, numbered
from .numbers import PARAM_NAMES, Nudge, Step, central_difference, entries, nudge

TOL = 1e-6
CENTRAL_TOL = 1e-9     # how far a spreadsheet's central difference may be from Python's


def entry_label(name: str, i: int, j: int, digits: bool = False) -> str:
    if name in ("W1", "W2"):
        extra = f" (digit {i})" if digits and name == "W2" else ""
        return f"{name}[{i + 1},{j + 1}]{extra}"
    extra = f" (digit {i})" if digits and name == "b2" else ""
    return f"{name}_{i + 1}{extra}"


@dataclass
class Checks:
    verdicts: List[Area]      # the PASS / FAIL cells
    largest: Ref              # the largest |numeric - backprop|
    count: int                # how many entries are checked


def nudge_table(sheet: Sheet, P: ParamBlocks, Xb: Block, Yb: Block, eps: Block, name: str,
                chosen: Sequence[Tuple[int, int]], runs: List[Nudge], sign: int,
                digits: bool) -> Block:
    """One forward pass per row: `name`'s nudged row, then each example's z1 ... L, then L."""
    here = sheet.title
    B = len(runs[0].traces)
    n_hidden, n_out = len(runs[0].traces[0].z1), len(runs[0].traces[0].z2)
    width = len(runs[0].row)
    weight = name in ("W1", "W2")
    base = P.get(name)
    top = sheet.row
    first_row, left = top + 2, 2
    sym = "+" if sign > 0 else "-"
    copy_labels = ([f"{name}[i,{j + 1}]" for j in range(width)] if weight
                   else [f"{name}_{j + 1}" for j in range(width)])
    per_example = (numbered("z1", n_hidden) + numbered("h", n_hidden)
                   + numbered("z2", n_out, digits) + ["m"] + numbered("e", n_out, digits)
                   + ["s", "L"])
    span = len(per_example)
    labels = copy_labels + [f"{c} (ex. {b + 1})" if B > 1 else c
                            for b in range(B) for c in per_example]
    if B > 1:
        labels.append("L (batch)")
    formats = [PRECISE if label.startswith("L") else VALUE for label in labels]

    def cell(r: int, c: int) -> str:
        return Ref(here, first_row + r, left + c).a1

    def span_of(r: int, c0: int, n: int) -> str:
        return f"{cell(r, c0)}:{cell(r, c0 + n - 1)}"

    def entry(r: int, c: int) -> Formula:
        a, j = chosen[r]
        run = runs[r]
        if c < width:                                   # the nudged row
            target = (a, c) if weight else (0, c)
            text = f"={base.at(here, *target)}"
            if (weight and c == j) or (not weight and c == a):
                text += f"{sym}{eps.whole(here)}"
            return Formula(text, run.row[c])
        c -= width
        b, k = divmod(c, span)
        if b == B:                                      # the mini-batch's L
            Ls = [cell(r, width + bb * span + span - 1) for bb in range(B)]
            return Formula(f"=({'+'.join(Ls)})/{B}", run.loss)
        t = run.traces[b]
        m, e, s = softmax_parts(t.z2)
        at = width + b * span                           # this example's first column
        z1_at, h_at, z2_at = at, at + n_hidden, at + 2 * n_hidden
        m_at, e_at = z2_at + n_out, z2_at + n_out + 1
        s_at = e_at + n_out
        x_b, y_b = Xb.row(here, b), Yb.row(here, b)
        if k < n_hidden:
            i = k
            row = (span_of(r, 0, width) if name == "W1" and i == a else P.W1.row(here, i))
            bias = cell(r, i) if name == "b1" else P.b1.at(here, 0, i)
            return Formula(f"=SUMPRODUCT({row},{x_b})+{bias}", t.z1[i])
        if k < 2 * n_hidden:
            i = k - n_hidden
            return Formula(f"=MAX(0,{cell(r, z1_at + i)})", t.h[i])
        if k < 2 * n_hidden + n_out:
            q = k - 2 * n_hidden
            row = (span_of(r, 0, width) if name == "W2" and q == a else P.W2.row(here, q))
            bias = cell(r, q) if name == "b2" else P.b2.at(here, 0, q)
            return Formula(f"=SUMPRODUCT({row},{span_of(r, h_at, n_hidden)})+{bias}", t.z2[q])
        if k == m_at - at:
            return Formula(f"=MAX({span_of(r, z2_at, n_out)})", m)
        if k < s_at - at:
            q = k - (e_at - at)
            return Formula(f"=EXP({cell(r, z2_at + q)}-{cell(r, m_at)})", e[q])
        if k == s_at - at:
            return Formula(f"=SUM({span_of(r, e_at, n_out)})", s)
        return Formula(f"={cell(r, m_at)}+LN({cell(r, s_at)})"
                       f"-SUMPRODUCT({y_b},{span_of(r, z2_at, n_out)})", t.L)

    word = "plus" if sign > 0 else "minus"
    block = sheet.block(
        f"{name} {sym} eps", f"the forward pass with one entry of {name} moved by {sym}eps, "
        "one pass per row", f"Each row copies the row of {name} that holds the entry, with the "
        f"entry {sym} eps, and runs the mini-batch forward as on sheet Forward.  Its last "
        f"column is the loss L({name} entry {sym} eps).", CHECK,
        [entry_label(name, a, j, digits) for a, j in chosen], labels, entry,
        name=f"run_{word}_{symbol_name(name)}", corner="nudged entry", fmt=formats)
    last = block.left + block.cols - 1
    sheet.book.define(f"L_{word}_{symbol_name(name)}",
                      Area(here, block.top, last, block.top + block.rows - 1, last))
    return block


def write_checks(book: Book, P: ParamBlocks, Xb: Block, Yb: Block, F: ForwardBlocks,
                 G: ParamBlocks, step: Step, chosen: Dict[str, List[Tuple[int, int]]],
                 digits: bool = False) -> Checks:
    """Sheets Check (the comparison) and Nudges (the forward passes it needs)."""
    check, runs_sheet = book.sheet("Check"), book.sheet("Nudges")
    here = check.title
    check.header("Check: backprop against central differences, both computed by formulas",
                 "dL/dtheta ~ (L(theta + eps) - L(theta - eps)) / (2 eps), each L a forward "
                 "pass on sheet Nudges.  Edit any input or weight: every check recomputes.",
                 home="Start")
    runs_sheet.header("Nudges: the forward pass again, once per nudged parameter entry",
                      "Each row: the parameter's row with one entry moved by +eps or -eps, then "
                      "z1, h, z2, m, e, s, L of each example, as on sheet Forward.", home="Start")
    eps = check.block("eps", "eps: the nudge of the central differences",
                      "1e-5 (gradcheck.EPS): the truncation error eps^2 and the rounding "
                      "error 1e-16 / eps are then both about 1e-10.", CHECK, ["eps"], ["value"],
                      lambda i, j: EPS, name="eps", fmt="0E+00")
    tol = check.block("tol", "tol: the PASS threshold",
                      "PASS when |numeric - backprop| <= tol * max(1, |backprop|).\n1e-6: far above the central difference's own error (about 1e-10), far "
                      "below any real mistake (the size of a gradient).", CHECK, ["tol"],
                      ["value"], lambda i, j: TOL, name="tol", fmt="0E+00",
                      origin=(eps.top - 2, 4))
    B = len(step.traces)
    z1_cells = [F.z1.at(here, b, i) for b in range(B) for i in range(len(step.traces[0].z1))]
    nearest = min(abs(v) for t in step.traces for v in t.z1)
    x_all = [v for x in step.X for v in x]
    reach_value = EPS * max(1.0, max(x_all), -min(x_all))
    kink = check.block(
        "kink", "how near ReLU's kink: the smallest |z1_i|, and how far a nudge moves a z1",
        "A check reads KINK (not FAIL) when numeric and backprop differ while a z1_i is "
        "closer to 0 than one nudge can move it: eps * max(1, |x_j|).", CHECK,
        ["z1"], ["smallest |z1_i|", "largest nudge"],
        lambda i, j: [Formula("=MIN(" + ",".join(f"ABS({c})" for c in z1_cells) + ")", nearest),
                      Formula(f"={eps.whole(here)}*MAX(1,MAX({Xb.whole(here)}),"
                              f"-MIN({Xb.whole(here)}))", reach_value)][j],
        name="kink", origin=(eps.top - 2, 7))
    check.row = max(check.row, kink.top + 2)
    verdicts, largest, count, passed = [], [], 0, 0
    for name in PARAM_NAMES:
        picked = chosen.get(name, [])
        if not picked:
            continue
        runs = {sign: [nudge(step.params, step.X, step.Y, name, a, j, sign) for a, j in picked]
                for sign in (1, -1)}
        runs_sheet.heading(f"{name}: {len(picked)} entries, each nudged up and down")
        for sign in (1, -1):
            nudge_table(runs_sheet, P, Xb, Yb, eps, name, picked, runs[sign], sign, digits)
        word = symbol_name(name)
        numeric = [central_difference(p, m) for p, m in zip(runs[1], runs[-1])]
        grads = G.get(name)
        backprop = [getattr(step.grads, name)[a][j] if name in ("W1", "W2")
                    else getattr(step.grads, name)[a] for a, j in picked]
        rows = [entry_label(name, a, j, digits) for a, j in picked]
        top = check.row
        first = top + 2

        def cell(r: int, c: int) -> str:
            return Ref(here, first + r, 2 + c).a1

        def left(r: int, c: int) -> Formula:
            if c < 2:
                run = runs[1 if c == 0 else -1][r]
                lname = f"L_{'plus' if c == 0 else 'minus'}_{word}"
                return Formula(f"=INDEX({lname},{r + 1})", run.loss)
            return Formula(f"=({cell(r, 0)}-{cell(r, 1)})/(2*{eps.whole(here)})", numeric[r],
                           tolerance=CENTRAL_TOL)

        check.block(f"d{name} numeric", f"d{name} by central differences (sheet Nudges)",
                    f"numeric = (L({name} entry + eps) - L({name} entry - eps)) "
                    "/ (2 eps): formulas, recomputed on every edit.", CHECK, rows,
                    ["L(theta + eps)", "L(theta - eps)", "numeric"], left, corner="theta",
                    name=f"numeric_{word}", origin=(top, 1), fmt=[PRECISE, PRECISE, VALUE])
        differences = [abs(n - g) for n, g in zip(numeric, backprop)]

        def right(r: int, c: int) -> Formula:
            a, j = picked[r]
            if c == 0:
                where = (a, j) if name in ("W1", "W2") else (0, a)
                return Formula(f"={grads.at(here, *where)}", backprop[r])
            if c == 1:
                return Formula(f"=ABS({cell(r, 2)}-{cell(r, 4)})", differences[r],
                               tolerance=CENTRAL_TOL)
            verdict = "PASS" if differences[r] <= TOL * max(1.0, abs(backprop[r])) else "FAIL"
            return Formula(f"=IF({cell(r, 5)}<={tol.whole(here)}*MAX(1,ABS({cell(r, 4)})),"
                           f"\"PASS\",IF({kink.at(here, 0, 0)}>{kink.at(here, 0, 1)},"
                           f"\"FAIL\",\"KINK\"))", verdict)

        diff = check.block(f"|d{name} diff|", f"backprop's d{name} (sheet Short form), and "
                           "|numeric - backprop|", "PASS when the two agree to tol * max(1, "
                           "|backprop|).", CHECK, rows, ["backprop", "|numeric - backprop|",
                                                         "check"], right,
                           name=f"check_{word}", fmt=[VALUE, SMALL, VALUE], origin=(top, 5))
        check.verdict_colours(diff.column_area(2))
        verdicts.append(diff.column_area(2))
        largest.append((diff.column_area(1), max(differences)))
        count += len(picked)
        passed += sum(d <= TOL * max(1.0, abs(g)) for d, g in zip(differences, backprop))
    total = check.block(
        "max", "all the checks: the largest |numeric - backprop| and how many read PASS",
        "MAX over the differences above; COUNTIF counts the PASS cells.", CHECK, ["all"],
        ["largest |difference|", "PASS", "checked"],
        lambda i, j: [Formula("=MAX(" + ",".join(a.a1 for a, _ in largest) + ")",
                              max(v for _, v in largest), tolerance=CENTRAL_TOL),
                      Formula("=" + "+".join(f'COUNTIF({a.a1},"PASS")' for a in verdicts), passed),
                      count][j], name="checks_total", fmt=[SMALL, INTEGER, INTEGER])
    check.fit_to_page(wide=1, tall=0, landscape=False)
    runs_sheet.fit_to_page(wide=1, tall=0)
    return Checks(verdicts, total.ref(0, 0), count)


def every_entry(step: Step) -> Dict[str, List[Tuple[int, int]]]:
    return {name: entries(step.params, name) for name in PARAM_NAMES}
