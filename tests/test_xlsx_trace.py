"""The backprop trace workbooks (purenet/xlsx) and ``purenet export-xlsx``.

What is checked, on the committed spreadsheets/*.xlsx:
- LibreOffice, forced to recalculate, gets every formula to Python's value
  (relative 1e-9, absolute floor 1e-12 for values that are zero up to
  rounding; see tests/xlsx_recalc.py) with no error values;
- ``purenet export-xlsx`` with its default flags rewrites them byte for byte;
- every formula has a cached number, uses only portable functions, and the
  gradients are live formulas of x, y and every parameter;
- after edits of inputs, weights, lr and mu in a copy, LibreOffice's
  recalculation still reads PASS in every check cell, and the gradients,
  the update and the long form's products are network.py's and
  jacobian.py's for the edited numbers;
- every block's label names its defined name, and numbers are decimals.
(test_xlsx_numbers.py checks every block's cached numbers, without LibreOffice.)
"""

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List

import pytest

openpyxl = pytest.importorskip("openpyxl")

import xlsx_recalc  # noqa: E402  (tests/xlsx_recalc.py)
from openpyxl.utils import column_index_from_string as col_index  # noqa: E402
from openpyxl.xml.functions import tostring  # noqa: E402
from purenet.jacobian import long_form_one  # noqa: E402
from purenet.mnist import load_mnist  # noqa: E402
from purenet.network import Params, backward, forward, sgd_step  # noqa: E402
from purenet.xlsx import book as xbook  # noqa: E402
from purenet.xlsx import cells as xcells  # noqa: E402
from purenet.xlsx import save as xsave  # noqa: E402
from purenet.xlsx.trace import WORKBOOKS, Digit, Settings, build  # noqa: E402
from purenet.xlsx.trace.numbers import run_steps, tiny_example  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SPREADSHEETS = REPO / "spreadsheets"

SHEETS = {
    "forward_and_short_form.xlsx": ["Start", "Parameters", "Forward", "Short form", "One weight",
                                    "Update", "Check", "Nudges"],
    "long_form.xlsx": ["Start", "Parameters", "Forward", "Jacobians", "Chain", "Short form",
                       "Gradients"],
    "training_steps.xlsx": ["Start", "Data"] + [f"Step {t}" for t in range(1, 11)]
                           + [f"Momentum {t}" for t in range(1, 11)] + ["Loss"],
    "digit_trace.xlsx": ["Start", "Digit", "Tiles", "Parameters", "Forward", "Short form",
                         "Update", "Check", "Nudges"],
}
FORMULAS = {"forward_and_short_form.xlsx": 2311, "long_form.xlsx": 463,
            "training_steps.xlsx": 5225, "digit_trace.xlsx": 6351}
PASS_CELLS = {"forward_and_short_form.xlsx": 27, "long_form.xlsx": 4,
              "training_steps.xlsx": 0, "digit_trace.xlsx": 34}


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def close(a: float, b: float, rel: float = 1e-12, floor: float = 1e-15) -> bool:
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), floor)


def all_close(A, B, rel: float = 1e-12, floor: float = 1e-15) -> bool:
    A = A if isinstance(A[0], list) else [A]
    B = B if isinstance(B[0], list) else [B]
    return len(A) == len(B) and all(
        len(ra) == len(rb) and all(close(a, b, rel, floor) for a, b in zip(ra, rb))
        for ra, rb in zip(A, B))


def find_block(ws, label: str):
    """(first data row, first data column, rows, cols) of the block labelled `label` in
    column A (the label cell with a note; column labels on the next row)."""
    for row in range(1, ws.max_row + 1):
        cell = ws.cell(row=row, column=1)
        if cell.value == label and cell.comment is not None:
            cols = 0
            while ws.cell(row=row + 1, column=2 + cols).value is not None:
                cols += 1
            rows = 0
            while ws.cell(row=row + 2 + rows, column=1).value not in (None, ""):
                rows += 1
            return row + 2, 2, rows, cols
    raise AssertionError(f"no block {label!r} on sheet {ws.title!r}")


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


def area_of(wb, name: str, sheet: str = None):
    """(sheet title, top, left, rows, cols) of a defined name, book-wide or on `sheet`."""
    names = wb[sheet].defined_names if sheet else wb.defined_names
    text = names[name].attr_text
    where, cells = text.rsplit("!", 1)
    first, _, last = cells.replace("$", "").partition(":")
    last = last or first
    c1, r1 = openpyxl.utils.cell.coordinate_from_string(first)
    c2, r2 = openpyxl.utils.cell.coordinate_from_string(last)
    return (where.strip("'").replace("''", "'"), r1, col_index(c1), r2 - r1 + 1,
            col_index(c2) - col_index(c1) + 1)


def named(wb, name: str, sheet: str = None) -> List[List[object]]:
    title, top, left, rows, cols = area_of(wb, name, sheet)
    ws = wb[title]
    return [[ws.cell(row=top + i, column=left + j).value for j in range(cols)]
            for i in range(rows)]


@pytest.fixture(scope="module")
def books():
    """name -> the Book that export-xlsx writes, for its cached values and tolerances."""
    test = load_mnist("test")
    return build(Settings(), Digit(test.images[0], test.labels[0], 0))


@pytest.fixture(scope="module")
def values():
    return {name: openpyxl.load_workbook(SPREADSHEETS / name, data_only=True)
            for name in WORKBOOKS}


@pytest.fixture(scope="module")
def formulas():
    return {name: openpyxl.load_workbook(SPREADSHEETS / name) for name in WORKBOOKS}


def mismatches(book, recalculated: Path) -> List[str]:
    """Cells whose recalculated value differs from Python's: numbers to 1e-9 relative (central
    differences to their absolute tolerance), words exactly."""
    expected = book.cached_values()
    tolerance = book.tolerances()
    actual = xlsx_recalc.values_at(recalculated, list(expected))
    problems = []
    for cell, want in expected.items():
        got = actual[cell]
        if isinstance(want, str):
            ok = got == want
        elif not xlsx_recalc.is_number(got):
            ok = False
        elif cell in tolerance:
            ok = abs(got - want) <= tolerance[cell]
        else:
            ok = xlsx_recalc.matches(want, got)
        if not ok:
            problems.append(f"{cell[0]}!{cell[1]}: LibreOffice {got!r}, Python {want!r}")
    return problems


# --- edits: a copy with inputs and weights changed ---------------------------------------

EDITS = {   # workbook -> [(defined name, row, column, new value)], 0-based in the block
    "forward_and_short_form.xlsx": [("x", 0, 1, 0.25), ("x", 1, 3, -0.8), ("W_1", 1, 2, -0.4),
                                    ("W_2", 0, 2, 1.1), ("b_2", 0, 2, 0.3), ("lr", 0, 0, 0.1)],
    "long_form.xlsx": [("x", 0, 0, 0.7), ("W_2", 2, 1, 0.9), ("b_1", 0, 1, 0.2)],
    "training_steps.xlsx": [("x", 1, 2, -0.3), ("W_1_start", 0, 0, 0.5), ("lr", 0, 0, 0.3),
                            ("mu", 0, 0, 0.5)],
    "digit_trace.xlsx": [("pixel", 10, 10, 255), ("pixel", 12, 14, 0), ("W_2", 7, 3, 0.8),
                         ("b_1", 0, 4, 0.05)],
}


def edited_copy(name: str, target: Path) -> None:
    wb = openpyxl.load_workbook(SPREADSHEETS / name)
    for block, i, j, value in EDITS[name]:
        title, top, left, _, _ = area_of(wb, block)
        wb[title].cell(row=top + i, column=left + j).value = value
    wb.save(target)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """name -> the committed workbook recalculated by LibreOffice, and 'edited ' + name -> an
    edited copy recalculated; one soffice run for all."""
    xlsx_recalc.require_soffice()
    work = tmp_path_factory.mktemp("recalc")
    tampered = work / "tampered.xlsx"
    cell = tamper_first_cached_value(SPREADSHEETS / "forward_and_short_form.xlsx", tampered,
                                     "xl/worksheets/sheet3.xml")   # the Forward sheet
    edited = []
    for name in WORKBOOKS:
        edited.append(work / f"edited_{name}")
        edited_copy(name, edited[-1])
    sources = [SPREADSHEETS / name for name in WORKBOOKS] + edited + [tampered]
    out = xlsx_recalc.recalculate(sources, work / "out")
    done = {path.name: result for path, result in zip(sources, out)}
    done["tampered cell"] = cell
    return done


@pytest.mark.parametrize("name", WORKBOOKS)
def test_libreoffice_recalculates_every_formula_to_pythons_value(name, recalculated, books):
    problems = mismatches(books[name], recalculated[name])
    cells = xlsx_recalc.formula_cells(SPREADSHEETS / name)
    assert not problems, f"{len(problems)} of {len(cells)} cells:\n" + "\n".join(problems[:20])
    assert len(cells) == FORMULAS[name] == books[name].formula_count
    print(f"\n{name}: {len(cells)} formulas recalculated by LibreOffice equal Python's "
          f"({len(books[name].tolerances())} central differences to 1e-9 absolute)")


def test_the_recalculation_is_forced_not_read_from_the_cache(recalculated):
    cell = ("Forward", recalculated["tampered cell"])
    python = xlsx_recalc.values_at(SPREADSHEETS / "forward_and_short_form.xlsx", [cell])[cell]
    got = xlsx_recalc.values_at(recalculated["tampered.xlsx"], [cell])[cell]
    assert python != 12345.0 and got != 12345.0
    assert xlsx_recalc.matches(python, got)


def params_of(wb, suffix: str = "", sheet: str = None) -> Params:
    def get(name):
        return named(wb, name + suffix, sheet)
    return Params(W1=get("W_1"), b1=get("b_1")[0], W2=get("W_2"), b2=get("b_2")[0])


def assert_grads(wb, grads, sheet: str = None) -> float:
    """The workbook's dW_1, db_1, dW_2, db_2 equal `grads`; returns the largest difference."""
    worst = 0.0
    for name, ours in (("dW_1", grads.W1), ("db_1", [grads.b1]), ("dW_2", grads.W2),
                       ("db_2", [grads.b2])):
        theirs = named(wb, name, sheet)
        for ra, rb in zip(theirs, ours):
            for a, b in zip(ra, rb):
                assert close(a, b, rel=1e-9, floor=1e-12), (name, a, b)
                worst = max(worst, abs(a - b))
    return worst


@pytest.mark.parametrize("name", WORKBOOKS)
def test_after_edits_every_check_still_passes_and_the_gradients_are_network_pys(
        name, recalculated, books):
    after = openpyxl.load_workbook(recalculated[f"edited_{name}"], data_only=True)
    verdicts = [cell for cell, v in books[name].cached_values().items() if v == "PASS"]
    assert len(verdicts) == PASS_CELLS[name]
    assert [after[s][c].value for s, c in verdicts] == ["PASS"] * len(verdicts)
    for block, i, j, value in EDITS[name]:
        assert named(after, block)[i][j] == value
    if name == "training_steps.xlsx":
        X, Y = named(after, "x"), named(after, "y")
        start = params_of(after, "_start")
        lr, mu = named(after, "lr")[0][0], named(after, "mu")[0][0]
        assert (lr, mu) == (0.3, 0.5) and start.W1[0][0] == 0.5
        worst = 0.0
        for label, kind in (("Step", None), ("Momentum", mu)):
            for t, step in enumerate(run_steps(start, X, Y, lr, 10, kind), 1):
                sheet = f"{label} {t}"
                worst = max(worst, assert_grads(after, step.grads, sheet))
                assert close(named(after, "L_batch", sheet)[0][0], step.loss, 1e-9)
        print(f"\n{name}: 20 edited steps' gradients equal network.py's (largest difference "
              f"{worst:.1e})")
        return
    X, Y = named(after, "x"), named(after, "y")
    params = params_of(after)
    traces = forward(params, X, Y)
    grads = backward(params, traces)
    worst = assert_grads(after, grads)
    if name == "long_form.xlsx":
        # every product of the chain is jacobian.py's for the edited numbers
        J = long_form_one(params, traces[0]).jacobians
        for key in J:
            assert all_close(named(after, key.replace("/", "_") if " " not in key
                                   else "dL_dh_other"), J[key], rel=1e-9, floor=1e-12), key
    else:
        lr = named(after, "lr")[0][0]
        assert all_close(named(after, "new_W_1"), sgd_step(params, grads, lr).W1,
                         rel=1e-9, floor=1e-12)
    print(f"\n{name}: {len(verdicts)} checks PASS after the edits {EDITS[name]}; gradients "
          f"equal network.py's to {worst:.1e}")


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
    # on every Python, PyPy included (save.sort_merges puts openpyxl's merged ranges in order)
    assert not xlsx_recalc.byte_difference(regenerated[name], (SPREADSHEETS / name).read_bytes())


NUMBER = re.compile(rb'(<v>|val=")(-?[0-9][0-9.eE+-]*)')


def numbers_apart(data: bytes):
    return NUMBER.sub(rb"\1#", data), [float(m.group(2)) for m in NUMBER.finditer(data)]


@pytest.mark.parametrize("name", WORKBOOKS)
def test_export_xlsx_regenerates_everything_but_the_last_digits(name, regenerated):
    # On every Python: the same layout, formulas, styles and notes byte for byte, and the
    # same numbers to 1e-9 (central differences carry about 1e-11 of rounding).
    with zipfile.ZipFile(io.BytesIO(regenerated[name])) as new, \
            zipfile.ZipFile(SPREADSHEETS / name) as old:
        assert new.namelist() == old.namelist()
        for entry in old.namelist():
            new_text, new_numbers = numbers_apart(new.read(entry))
            old_text, old_numbers = numbers_apart(old.read(entry))
            assert new_text == old_text, entry
            assert all(close(a, b, rel=1e-9, floor=1e-9)
                       for a, b in zip(new_numbers, old_numbers)), entry


@pytest.mark.parametrize("name", WORKBOOKS)
def test_zip_entries_and_document_dates_are_fixed(name):
    with zipfile.ZipFile(SPREADSHEETS / name) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == \
        ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"]


# --- what every workbook is made of ------------------------------------------------------------

@pytest.mark.parametrize("name", WORKBOOKS)
def test_sheets_come_in_reading_order_and_link_through_it(name, formulas):
    wb = formulas[name]
    assert wb.sheetnames == SHEETS[name]
    links = [cell.hyperlink.location for row in wb["Start"].iter_rows() for cell in row
             if cell.hyperlink is not None]
    assert set(links) == {f"{xcells.quote_sheet(t)}!A1" for t in SHEETS[name][1:]}
    for before, ws, after in zip(SHEETS[name], wb.worksheets[1:], SHEETS[name][2:] + [None]):
        assert ws["A1"].hyperlink.location == "Start!A1"
        assert ws["B3"].hyperlink.location == f"{xcells.quote_sheet(before)}!A1"
        if after:
            assert ws["E3"].hyperlink.location == f"{xcells.quote_sheet(after)}!A1"


@pytest.mark.parametrize("name", WORKBOOKS)
def test_formulas_are_portable_and_cached(name, formulas, values):
    used = set()
    for (sheet, coord), text in xlsx_recalc.formula_cells(SPREADSHEETS / name).items():
        used |= set(xcells.functions_used(text))
        assert "_xlfn" not in text and "{" not in text
        assert values[name][sheet][coord].value is not None
    assert used <= xcells.ALLOWED_FUNCTIONS


def block_labels(ws):
    """(cell, note) of every block's label: the cells that carry a note."""
    return [(cell, cell.comment.text) for row in ws.iter_rows() for cell in row
            if cell.comment is not None]


@pytest.mark.parametrize("name", WORKBOOKS)
def test_every_block_has_its_defined_name_and_numbers_are_decimals(name, formulas):
    wb = formulas[name]
    blocks = 0
    for ws in wb.worksheets:
        for cell, note in block_labels(ws):
            found = re.search(r"Defined name: (\w+)( \(on this sheet\))?$", note)
            assert found, f"{ws.title}!{cell.coordinate} ({cell.value}) has no defined name"
            symbol, local = found.group(1), found.group(2) is not None
            title, top, left, _, _ = area_of(wb, symbol, ws.title if local else None)
            assert (title, top, left) == (ws.title, cell.row + 2, cell.column + 1), symbol
            blocks += 1
    assert blocks > 0
    scientific = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if "E" in cell.number_format and cell.number_format != "General":
                    # only differences near zero (grey check cells) and eps, tol
                    assert cell.fill.fgColor.rgb.endswith(xcells.CHECK.fill), \
                        f"{ws.title}!{cell.coordinate} {cell.number_format}"
                    scientific += 1
    print(f"\n{name}: {blocks} blocks, each with its defined name; {scientific} cells in "
          "scientific format, all differences near zero")


def test_the_symbols_have_the_names_the_start_sheet_lists(formulas):
    wb = formulas["forward_and_short_form.xlsx"]
    assert {"x", "y", "W_1", "b_1", "W_2", "b_2", "lr", "z_1", "h", "z_2", "m", "e", "s", "p",
            "L", "L_batch", "dz_2", "W_2T", "dh", "mask", "dz_1", "dW_1", "db_1", "dW_2", "db_2",
            "new_W_1", "new_b_1", "new_W_2", "new_b_2", "eps", "tol"} <= set(wb.defined_names)
    for t in range(1, 11):
        for sheet in (f"Step {t}", f"Momentum {t}"):
            assert {"W_1", "z_1", "dW_1", "new_W_1", "L_batch"} <= \
                set(formulas["training_steps.xlsx"][sheet].defined_names)
    assert {"v_W_1", "new_v_b_2"} <= set(formulas["training_steps.xlsx"]["Momentum 3"].defined_names)
    assert "mu" in formulas["training_steps.xlsx"].defined_names


def test_a_block_without_its_name_is_found():
    book = xbook.Book("t")
    sheet = book.sheet("S")
    sheet.block("a", "a: a number", "a note", xcells.INPUT, ["row"], ["a"], lambda i, j: 1.0)
    wb = openpyxl.load_workbook(io.BytesIO(book.to_bytes()))
    [(cell, note)] = block_labels(wb["S"])
    assert cell.value == "a" and "Defined name" not in note


# --- the numbers are purenet's ------------------------------------------------------------------

def test_training_steps_learn_both_classes_and_momentum_is_the_trainers(values):
    wb = values["training_steps.xlsx"]
    ws = wb["Loss"]
    top, left, rows, cols = find_block(ws, "L")
    table = [[ws.cell(row=top + i, column=left + j).value for j in range(cols)] for i in range(rows)]
    sgd_before = [r[0] for r in table]
    assert all(b < a for a, b in zip(sgd_before, sgd_before[1:]))
    assert [r[1] for r in table[:-1]] == sgd_before[1:]             # L after t = L before t+1
    assert table[-1][2] > table[0][2] and table[-1][3] > table[0][3] > 0  # both classes learnt
    params, X, Y = tiny_example(Settings())
    steps = run_steps(params, X, Y, 0.5, 2, mu=0.9)
    g1, g2 = steps[0].grads, steps[1].grads
    # v2 = 0.9 g1 + g2, and W1 after two steps = W1 - 0.5 g1 - 0.5 v2
    v2 = [[0.9 * a + b for a, b in zip(r1, r2)] for r1, r2 in zip(g1.W1, g2.W1)]
    assert all_close(named(wb, "new_v_W_1", "Momentum 2"), v2)
    assert all_close(named(wb, "new_W_1", "Momentum 2"), steps[1].new_params.W1)


def test_the_gallery_pictures_the_sheets_of_every_workbook():
    # docs/gallery (tests/xlsx_gallery.py): one PNG per sheet pictured, each linked from its README.
    import xlsx_gallery
    index = (REPO / "docs" / "gallery" / "README.md").read_text()
    books = sorted(SPREADSHEETS.glob("*.xlsx"))
    pictures = [xlsx_gallery.picture_name(book, title) for book in books
                for title in xlsx_gallery.pictured(book)]
    # the four trace workbooks, the report, and draw_a_digit's Start and Draw
    assert len(pictures) == 8 + 7 + 23 + 9 + 5 + 2
    for name in pictures:
        assert (REPO / "docs" / "gallery" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"]({name})" in index, name
    assert sorted(p.name for p in (REPO / "docs" / "gallery").glob("*.png")) == sorted(pictures)


# --- the cell layer ------------------------------------------------------------------------------

def small_book() -> xbook.Book:
    book = xbook.Book("test")
    sheet = book.sheet("Short form")
    sheet.header("a title", "a subtitle", home="Short form")
    a = sheet.block("a", "a: two numbers", "a note", xcells.INPUT, ["row"], ["a_1", "a_2"],
                    lambda i, j: [1.5, 2.5][j], name="a")
    sheet.block("s", "s = a_1 + a_2", "s note", xcells.INTERMEDIATE, ["row"], ["s", "check"],
                lambda i, j: [xcells.Formula(f"={a.at(sheet.title, 0, 0)}+{a.at(sheet.title, 0, 1)}",
                                             4.0), xcells.Formula('=IF(B11=4,"PASS","FAIL")', "PASS")][j])
    return book


def test_a_saved_book_is_the_same_bytes_every_time_and_shows_cached_values(tmp_path):
    first, second = small_book().to_bytes(), small_book().to_bytes()
    assert first == second
    path = tmp_path / "small.xlsx"
    path.write_bytes(first)
    ws = openpyxl.load_workbook(path, data_only=True)["Short form"]
    assert (ws["B11"].value, ws["C11"].value) == (4.0, "PASS")
    assert openpyxl.load_workbook(path)["Short form"]["B11"].value == "=INDEX(a,1)+INDEX(a,2)"


def test_exact_numbers_read_back_as_the_doubles_written():
    # 0.1 + 0.2 needs 17 significant digits; openpyxl writes 16 ("0.3")
    def saved(exact: bool) -> float:
        book = xbook.Book("t", exact_numbers=exact)
        book.sheet("S").put(5, 2, 0.1 + 0.2, xcells.PARAMETER)
        return openpyxl.load_workbook(io.BytesIO(book.to_bytes()))["S"]["B5"].value
    assert saved(True) == 0.1 + 0.2 != saved(False) == 0.3
    with pytest.raises(ValueError, match="B7"):
        xsave.exact_values(b'<c r="B7" s="1" t="inlineStr"><is><t>a</t></is></c>', {"B7": 0.5})


def test_a_named_style_gives_a_block_the_same_look():
    book = xbook.Book("t")
    sheet = book.sheet("S")
    for named_style, col in ((False, 2), (True, 5)):
        sheet.block("a", "a", "a note", xcells.GRADIENT, ["r"], ["a_1", "a_2"],
                    lambda i, j: [-0.5, xcells.Formula("=1+1", 2.0)][j], origin=(5, col - 1),
                    named_style=named_style, name=f"a_{col}")
    ws = openpyxl.load_workbook(io.BytesIO(book.to_bytes()))["S"]
    for plain, named in (("B7", "E7"), ("C7", "F7")):
        for look in ("fill", "border", "alignment"):
            assert tostring(getattr(ws[plain], look).to_tree()) == \
                tostring(getattr(ws[named], look).to_tree()), (plain, look)
        assert ws[plain].number_format == ws[named].number_format == xcells.VALUE
        assert (ws[plain].font.name, ws[plain].font.sz) == (ws[named].font.name, ws[named].font.sz)
    assert ws["E7"].style == "purenet gradient" and ws["B7"].style == "Normal"


def test_names_that_read_as_cells_are_refused():
    assert xcells.symbol_name("W1") == "W_1" and xcells.symbol_name("new W1") == "new_W_1"
    assert xcells.symbol_name("x") == "x" and xcells.symbol_name("lr") == "lr"
    for bad in ("W1", "dz2", "R", "C", "R1C1", "a b"):
        with pytest.raises(ValueError):
            xcells.check_name(bad)


def test_references_quote_sheet_names_that_need_it():
    assert xcells.quote_sheet("Forward") == "Forward"
    assert xcells.quote_sheet("Short form") == "'Short form'"
    assert xcells.quote_sheet("W1") == "'W1'"
    ref = xcells.Ref("Short form", 7, 3)
    assert ref.on("Short form") == "C7" and ref.on("Update") == "'Short form'!C7"


def test_unportable_formulas_and_missing_values_are_refused():
    sheet = xbook.Book("t").sheet("S")
    with pytest.raises(ValueError, match="LET"):
        sheet.put(5, 2, xcells.Formula("=LET(a,1,a)", 1.0), xcells.CHECK)
    with pytest.raises(ValueError, match="finite"):
        sheet.put(5, 2, xcells.Formula("=A1", float("nan")), xcells.CHECK)
    with pytest.raises(ValueError, match="B7 has no cached value"):
        xsave.inject_cached_values(b'<c r="B7" s="1"><f>A1</f><v /></c>', {})


def test_save_replaces_a_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"the old file")

    def broken(self):
        raise ValueError("disk full")

    monkeypatch.setattr(xbook.Book, "to_bytes", broken)
    with pytest.raises(ValueError):
        small_book().save(str(path))
    assert path.read_bytes() == b"the old file"


def test_xlsx_never_imports_the_speed_code_or_the_cli():
    package = REPO / "purenet" / "xlsx"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b(fast|parallel|speed|cli|commands)\b import|"
                             r"from \.+(fast|parallel|speed|cli|commands)\b", text), path


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
