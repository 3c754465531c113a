"""The backprop trace workbooks (purenet/xlsx) and ``purenet export-xlsx``.

What is checked, on the committed spreadsheets/*.xlsx:
- LibreOffice, forced to recalculate, gets every formula to Python's value
  (relative 1e-9, absolute floor 1e-12 for values that are zero up to
  rounding; see tests/xlsx_recalc.py) with no error values;
- ``purenet export-xlsx`` with its default flags rewrites them byte for byte;
- every formula has a cached number, uses only portable functions, and the
  gradients are live formulas of x, y and every parameter;
- the numbers are purenet's: the loss, gradients and update agree with
  network.py, the long form with the short form, the digit with MNIST.
"""

import io
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List, Set

import pytest

openpyxl = pytest.importorskip("openpyxl")

import xlsx_recalc  # noqa: E402  (tests/xlsx_recalc.py)
from openpyxl.utils import column_index_from_string as col_index  # noqa: E402
from openpyxl.utils import get_column_letter  # noqa: E402
from purenet.gradcheck import kink_free_batch  # noqa: E402
from purenet.mnist import load_mnist  # noqa: E402
from purenet.network import backward, forward, he_init, mean_loss, sgd_step  # noqa: E402
from purenet.xlsx import book as xbook  # noqa: E402
from purenet.xlsx.trace import WORKBOOKS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SPREADSHEETS = REPO / "spreadsheets"

SHEETS = {
    "forward_and_short_form.xlsx": ["Start", "Parameters", "Forward", "Short form", "Update",
                                    "Check"],
    "long_form.xlsx": ["Start", "Parameters", "Forward", "Jacobians", "Chain", "Short form",
                       "Gradients"],
    "training_steps.xlsx": ["Start", "Data"] + [f"Step {t}" for t in range(1, 11)] + ["Loss"],
    "digit_trace.xlsx": ["Start", "Digit", "Parameters", "Forward", "Short form", "Update",
                         "Check"],
}
FORMULAS = {"forward_and_short_form.xlsx": 189, "long_form.xlsx": 193,
            "training_steps.xlsx": 1850, "digit_trace.xlsx": 1656}


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def close(a: float, b: float, rel: float = 1e-12, floor: float = 1e-15) -> bool:
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), floor)


def all_close(A, B) -> bool:
    A = A if isinstance(A[0], list) else [A]
    B = B if isinstance(B[0], list) else [B]
    return len(A) == len(B) and all(
        len(ra) == len(rb) and all(close(a, b) for a, b in zip(ra, rb)) for ra, rb in zip(A, B))


@pytest.fixture(scope="module")
def values():
    """name -> the committed workbook opened with data_only=True (cached values)."""
    return {name: openpyxl.load_workbook(SPREADSHEETS / name, data_only=True)
            for name in WORKBOOKS}


@pytest.fixture(scope="module")
def formulas():
    """name -> the committed workbook opened with its formulas."""
    return {name: openpyxl.load_workbook(SPREADSHEETS / name) for name in WORKBOOKS}


def find_block(ws, name: str):
    """(first data row, first data column, rows, cols) of the block whose name cell is `name`.

    A block's name cell is the one in column A with a note; its column
    labels are on the next row, its entries below them.
    """
    for row in range(1, ws.max_row + 1):
        cell = ws.cell(row=row, column=1)
        if cell.value == name and cell.comment is not None:
            cols = 0
            while ws.cell(row=row + 1, column=2 + cols).value is not None:
                cols += 1
            rows = 0
            while ws.cell(row=row + 2 + rows, column=1).value not in (None, ""):
                rows += 1
            return row + 2, 2, rows, cols
    raise AssertionError(f"no block {name!r} on sheet {ws.title!r}")


def read_block(ws, name: str) -> List[List[float]]:
    top, left, rows, cols = find_block(ws, name)
    return [[ws.cell(row=top + i, column=left + j).value for j in range(cols)]
            for i in range(rows)]


def tiny_step():
    """The committed workbooks' example, computed afresh with network.py."""
    params = he_init((4, 3, 3), 0)
    X, Y = kink_free_batch(params, 2, random.Random(1))
    traces = forward(params, X, Y)
    grads = backward(params, traces)
    return params, X, Y, traces, grads


# --- LibreOffice ------------------------------------------------------------------------

def tamper_first_cached_value(source: Path, target: Path, sheet_xml: str) -> str:
    """Copy a workbook with one formula's cached value replaced by 12345; returns the cell."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == sheet_xml:
                match = re.search(rb'<c r="([A-Z]+[0-9]+)"[^>]*><f>[^<]*</f><v>([^<]*)</v>', data)
                cell = match.group(1).decode()
                data = data[:match.start(2)] + b"12345.0" + data[match.end(2):]
            zout.writestr(info, data)
    return cell


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """name -> the workbook after LibreOffice recalculated it; one soffice run for all."""
    xlsx_recalc.require_soffice()
    work = tmp_path_factory.mktemp("recalc")
    tampered = work / "tampered.xlsx"
    cell = tamper_first_cached_value(SPREADSHEETS / "forward_and_short_form.xlsx", tampered,
                                     "xl/worksheets/sheet3.xml")   # the Forward sheet
    sources = [SPREADSHEETS / name for name in WORKBOOKS] + [tampered]
    outputs = xlsx_recalc.recalculate(sources, work / "out")
    done = dict(zip(list(WORKBOOKS) + ["tampered.xlsx"], outputs))
    done["tampered cell"] = cell
    return done


@pytest.mark.parametrize("name", WORKBOOKS)
def test_libreoffice_recalculates_every_formula_to_pythons_value(name, recalculated):
    committed = SPREADSHEETS / name
    cells = xlsx_recalc.formula_cells(committed)
    expected = xlsx_recalc.values_at(committed, list(cells))
    actual = xlsx_recalc.values_at(recalculated[name], list(cells))
    problems = xlsx_recalc.compare(expected, actual)
    assert not problems, f"{len(problems)} of {len(cells)} cells:\n" + "\n".join(problems[:20])
    assert len(cells) == FORMULAS[name]
    def within_relative(cell) -> bool:
        a, b = expected[cell], actual[cell]
        return abs(a - b) <= xlsx_recalc.REL_TOL * max(abs(a), abs(b))

    floored = [cell for cell in cells if not within_relative(cell)]
    sheets = sorted({sheet for sheet, _ in floored})
    print(f"\n{name}: {len(cells)} formulas recalculated by LibreOffice equal Python's, "
          f"{len(cells) - len(floored)} to {xlsx_recalc.REL_TOL:g} relative and {len(floored)} "
          f"near-zero ones to the {xlsx_recalc.ABS_FLOOR:g} absolute floor "
          f"(sheets: {', '.join(sheets) or 'none'})")


def test_the_recalculation_is_forced_not_read_from_the_cache(recalculated):
    # A wrong cached value must not survive: LibreOffice recomputes the formula.
    cell = ("Forward", recalculated["tampered cell"])
    python = xlsx_recalc.values_at(SPREADSHEETS / "forward_and_short_form.xlsx", [cell])[cell]
    got = xlsx_recalc.values_at(recalculated["tampered.xlsx"], [cell])[cell]
    assert python != 12345.0 and got != 12345.0
    assert xlsx_recalc.matches(python, got)


def test_compare_reports_errors_and_differences():
    expected = {("S", "A1"): 1.0, ("S", "A2"): 2.0, ("S", "A3"): 0.0, ("S", "A4"): 3.0}
    actual = {("S", "A1"): 1.0 + 1e-12, ("S", "A2"): "#NAME?", ("S", "A3"): 1e-13,
              ("S", "A4"): 3.0 + 1e-6}
    problems = xlsx_recalc.compare(expected, actual)
    assert problems == ["S!A2: LibreOffice gives '#NAME?'",
                        "S!A4: LibreOffice 3.000001, Python 3.0"]


# --- byte for byte ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """name -> the bytes ``purenet export-xlsx`` writes now, with its default flags."""
    out = tmp_path_factory.mktemp("regenerated")
    done = purenet("export-xlsx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    for name in WORKBOOKS:
        assert f"wrote {out / name}: {FORMULAS[name]} formulas" in done.stdout
    return {name: (out / name).read_bytes() for name in WORKBOOKS}


@pytest.mark.parametrize("name", WORKBOOKS)
def test_export_xlsx_regenerates_the_committed_workbooks_byte_for_byte(name, regenerated):
    assert regenerated[name] == (SPREADSHEETS / name).read_bytes()


NUMBER = re.compile(rb'(<v>|val=")(-?[0-9][0-9.eE+-]*)')


def numbers_apart(data: bytes):
    """The file's text with every number replaced by #, and the numbers."""
    return NUMBER.sub(rb"\1#", data), [float(m.group(2)) for m in NUMBER.finditer(data)]


@pytest.mark.parametrize("name", WORKBOOKS)
def test_export_xlsx_regenerates_everything_but_the_last_digits(name, regenerated):
    # On every Python: the same entries, layout, formulas, styles and notes byte for
    # byte, and the same numbers to 1e-9 (central differences of 1e-11 to 1e-9 absolute).
    with zipfile.ZipFile(io.BytesIO(regenerated[name])) as new, \
            zipfile.ZipFile(SPREADSHEETS / name) as old:
        assert new.namelist() == old.namelist()
        for entry in old.namelist():
            new_text, new_numbers = numbers_apart(new.read(entry))
            old_text, old_numbers = numbers_apart(old.read(entry))
            assert new_text == old_text, entry
            assert len(new_numbers) == len(old_numbers)
            assert all(close(a, b, rel=1e-9, floor=1e-9)
                       for a, b in zip(new_numbers, old_numbers)), entry


@pytest.mark.parametrize("name", WORKBOOKS)
def test_zip_entries_and_document_dates_are_fixed(name):
    data = (SPREADSHEETS / name).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == \
        ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"]


# --- what every workbook is made of ------------------------------------------------------------

@pytest.mark.parametrize("name", WORKBOOKS)
def test_sheets_come_in_the_order_of_the_computation(name, formulas):
    assert formulas[name].sheetnames == SHEETS[name]


@pytest.mark.parametrize("name", WORKBOOKS)
def test_every_formula_has_a_cached_python_number(name, values):
    cells = xlsx_recalc.formula_cells(SPREADSHEETS / name)
    cached = {c: values[name][c[0]][c[1]].value for c in cells}
    assert all(xlsx_recalc.is_number(v) for v in cached.values())


@pytest.mark.parametrize("name", WORKBOOKS)
def test_formulas_use_only_functions_both_programs_evaluate_alike(name, formulas):
    wb = formulas[name]
    used = set()
    for text in xlsx_recalc.formula_cells(SPREADSHEETS / name).values():
        used |= set(xbook.functions_used(text))
        assert "_xlfn" not in text and "{" not in text
    assert used <= xbook.ALLOWED_FUNCTIONS
    assert len(wb.defined_names) == 0


@pytest.mark.parametrize("name", WORKBOOKS)
def test_start_links_to_every_sheet_and_every_sheet_links_back(name, formulas):
    wb = formulas[name]
    links = [cell.hyperlink.location for row in wb["Start"].iter_rows() for cell in row
             if cell.hyperlink is not None]
    assert links == [f"{xbook.quote_sheet(title)}!A1" for title in SHEETS[name][1:]]
    for ws in wb.worksheets[1:]:
        assert ws["A1"].hyperlink.location == "Start!A1"
        assert ws.freeze_panes == "B4"


@pytest.mark.parametrize("name", WORKBOOKS)
def test_every_block_has_a_note_and_matrices_have_a_heatmap(name, formulas):
    wb = formulas[name]
    for ws in wb.worksheets[1:]:
        named = [r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).comment]
        assert named, ws.title
        for r in named:   # the note repeats the block's title, its equation, then explains
            title = ws.cell(row=r, column=2).value
            assert ws.cell(row=r, column=1).comment.text.startswith(title + "\n\n")
    heatmaps = [rule.colorScale for ws in wb.worksheets
                for cf in ws.conditional_formatting for rule in cf.rules]
    assert heatmaps and all(scale is not None for scale in heatmaps)


# A reference: an optional sheet ('Short form'! or Forward!), a cell, an optional :cell.
REF = re.compile(r"(?:(?:'((?:[^']|'')+)'|([A-Za-z_][A-Za-z0-9_.]*))!)?"
                 r"\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?")


def precedents(wb, sheet: str, coordinate: str) -> Set[tuple]:
    """Every cell a formula cell depends on, directly or not (its trace-precedents)."""
    seen: Set[tuple] = set()
    todo = [(sheet, coordinate)]
    while todo:
        here, coord = todo.pop()
        text = wb[here][coord].value
        if not (isinstance(text, str) and text.startswith("=")):
            continue
        for quoted, plain, c1, r1, c2, r2 in REF.findall(re.sub(r"[A-Z]+\(", "(", text)):
            target = (quoted.replace("''", "'") if quoted else plain) or here
            c2, r2 = c2 or c1, r2 or r1
            for c in range(col_index(c1), col_index(c2) + 1):
                for r in range(int(r1), int(r2) + 1):
                    cell = (target, f"{get_column_letter(c)}{r}")
                    if cell not in seen:
                        seen.add(cell)
                        todo.append(cell)
    return seen


def test_a_gradient_is_a_live_formula_of_x_y_and_every_parameter(formulas):
    wb = formulas["forward_and_short_form.xlsx"]
    top, left, _, _ = find_block(wb["Short form"], "dW1")
    deps = precedents(wb, "Short form", f"{get_column_letter(left)}{top}")
    ws = wb["Parameters"]
    for name in ("x", "y", "W1", "b1", "W2", "b2"):
        t, l, rows, cols = find_block(ws, name)
        block = {("Parameters", f"{get_column_letter(l + j)}{t + i}")
                 for i in range(rows) for j in range(cols)}
        assert deps & block, f"dW1[1,1] does not depend on {name}"


# --- the numbers are purenet's ------------------------------------------------------------------

def test_forward_and_short_form_holds_networks_loss_gradients_and_update(values):
    params, X, Y, traces, grads = tiny_step()
    wb = values["forward_and_short_form.xlsx"]
    assert all_close(read_block(wb["Parameters"], "x"), X)
    assert all_close(read_block(wb["Parameters"], "W1"), params.W1)
    assert close(read_block(wb["Forward"], "L (batch)")[0][0], mean_loss(traces))
    assert all_close(read_block(wb["Forward"], "p"), [t.p for t in traces])
    for name in ("W1", "b1", "W2", "b2"):
        assert all_close(read_block(wb["Short form"], "d" + name), getattr(grads, name)), name
    new = sgd_step(params, grads, 0.5)
    for name in ("W1", "b1", "W2", "b2"):
        assert all_close(read_block(wb["Update"], "new " + name), getattr(new, name)), name
    # Central differences agree with the short form to about eps^2 = 1e-10.
    assert read_block(wb["Check"], "max")[0][0] < 1e-8


def test_long_form_gradients_equal_the_short_form_up_to_rounding(values):
    params, X, Y, traces, _ = tiny_step()
    one = backward(params, traces[:1])
    wb = values["long_form.xlsx"]
    for name in ("W1", "b1", "W2", "b2"):
        assert all_close(read_block(wb["Gradients"], f"d{name} long"), getattr(one, name)), name
    assert read_block(wb["Gradients"], "max")[0][0] < 1e-15
    # (dp/dz2)_ii = p_i (1 - p_i) on the diagonal.
    p = traces[0].p
    dp_dz2 = read_block(wb["Jacobians"], "dp/dz2")
    assert all(close(dp_dz2[i][i], p[i] * (1 - p[i])) for i in range(3))


def test_training_steps_loss_goes_down_from_the_first_workbooks_loss(values):
    losses = [row[0] for row in read_block(values["training_steps.xlsx"]["Loss"], "L")]
    assert len(losses) == 10
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    first = read_block(values["forward_and_short_form.xlsx"]["Forward"], "L (batch)")[0][0]
    assert losses[0] == first
    assert losses[-1] < losses[0] / 10


def test_digit_trace_pools_mnist_test_image_0_into_x(values):
    test = load_mnist("test")
    image, label = test.images[0], test.labels[0]
    wb = values["digit_trace.xlsx"]
    pixels = read_block(wb["Digit"], "pixel")
    assert [v for row in pixels for v in row] == list(image)
    # x_(7r+c): the mean of the 4 x 4 square at rows 4r.., columns 4c.., over 255.
    rows = [list(image[28 * i:28 * (i + 1)]) for i in range(28)]
    x = [sum(sum(row[4 * c:4 * c + 4]) for row in rows[4 * r:4 * r + 4]) / 4080
         for r in range(7) for c in range(7)]
    assert read_block(wb["Parameters"], "x") == [x]
    assert 0.0 <= min(x) and max(x) <= 1.0 and max(x) > 0.5
    assert read_block(wb["Parameters"], "y") == [[1 if k == label else 0 for k in range(10)]]
    assert len(read_block(wb["Parameters"], "W1")) == 8
    assert read_block(wb["Check"], "max")[0][0] < 1e-8


# --- book.py ------------------------------------------------------------------------------------

def small_book() -> xbook.Book:
    book = xbook.Book("test")
    sheet = book.sheet("Short form")
    sheet.header("a title", "a subtitle", back_to="Short form")
    a = sheet.block("a", "a: two numbers", "a note", xbook.INPUT, ["row"], ["a_1", "a_2"],
                    lambda i, j: [1.5, 2.5][j])
    sheet.block("s", "s = a_1 + a_2", "s note", xbook.INTERMEDIATE, ["row"], ["s"],
                lambda i, j: xbook.Formula(f"={sheet.ref(a.at(0, 0))}+{sheet.ref(a.at(0, 1))}",
                                           4.0))
    return book


def test_a_saved_book_is_the_same_bytes_every_time_and_shows_cached_values(tmp_path):
    first, second = small_book().to_bytes(), small_book().to_bytes()
    assert first == second
    path = tmp_path / "small.xlsx"
    path.write_bytes(first)
    ws = openpyxl.load_workbook(path, data_only=True)["Short form"]
    top, left, _, _ = find_block(ws, "s")
    assert ws.cell(row=top, column=left).value == 4.0
    assert openpyxl.load_workbook(path)["Short form"].cell(row=top, column=left).value == "=B7+C7"


def test_references_quote_sheet_names_that_need_it():
    assert xbook.quote_sheet("Forward") == "Forward"
    assert xbook.quote_sheet("Short form") == "'Short form'"
    assert xbook.quote_sheet("W1") == "'W1'"            # would read as a cell
    assert xbook.quote_sheet("Bob's") == "'Bob''s'"
    ref = xbook.Ref("Short form", 7, 3)
    assert ref.on("Short form") == "C7" and ref.on("Update") == "'Short form'!C7"
    area = xbook.Area("Forward", 5, 2, 5, 4)
    assert area.on("Forward") == "B5:D5" and area.on("Check") == "Forward!B5:D5"


def test_unportable_formulas_and_missing_values_are_refused():
    sheet = xbook.Book("t").sheet("S")
    with pytest.raises(ValueError, match="ABS"):
        sheet.put(5, 2, xbook.Formula("=ABS(A1)", 1.0), xbook.CHECK)
    with pytest.raises(ValueError, match="finite"):
        sheet.put(5, 2, xbook.Formula("=A1", float("nan")), xbook.CHECK)
    with pytest.raises(ValueError, match="B7 has no cached value"):
        xbook.inject_cached_values(b'<c r="B7" s="1"><f>A1</f><v /></c>', {})


def test_save_replaces_a_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"the old file")

    def broken(self):
        raise ValueError("disk full")

    monkeypatch.setattr(xbook.Book, "to_bytes", broken)
    with pytest.raises(ValueError):
        small_book().save(str(path))
    assert path.read_bytes() == b"the old file"


# --- the command ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--sizes", "11,3,3"], "--sizes 11,3,3: each size must be at most 10 (a workbook is "
                            "for reading; purenet train is for big nets)"),
    (["--batch", "5"], "--batch 5: at most 4"),
    (["--steps", "21"], "--steps 21: at most 20"),
    (["--digit", "10000"], "--digit 10000: the test set has images 0..9999"),
])
def test_bad_values_give_one_line_and_exit_2(args, message, tmp_path):
    done = purenet("export-xlsx", "--out", str(tmp_path), *args)
    assert done.returncode == 2
    assert done.stderr.strip() == f"purenet: error: {message}"
    assert list(tmp_path.iterdir()) == []


def test_an_out_path_that_is_a_file_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "a file"
    target.write_text("keep me")
    done = purenet("export-xlsx", "--out", str(target))
    assert done.returncode == 2
    assert "exists and is not a directory" in done.stderr
    assert target.read_text() == "keep me"
