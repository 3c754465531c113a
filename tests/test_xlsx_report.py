"""The training report workbook (purenet/xlsx/report.py, ``purenet report``).

Specified on a small made-up model (784-12-10, He-initialised, with a
two-epoch history) and the first 400 MNIST test images, so that each test
knows every number: metrics.py's figures, the images, the weights.  The
LibreOffice test recalculates a generated report and the committed
spreadsheets/report.xlsx and compares every formula with Python's value.
"""

import errno
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from purenet import atomic, metrics  # noqa: E402
from purenet.speed import predict_probabilities  # noqa: E402
from purenet.matrix import argmax  # noqa: E402
from purenet.mnist import Dataset, load_mnist  # noqa: E402
from purenet.model_io import Model, save_model  # noqa: E402
from purenet.network import he_init  # noqa: E402
from purenet.xlsx import pictures as pic  # noqa: E402
from purenet.xlsx import report as rep  # noqa: E402
from purenet.xlsx.book import Book  # noqa: E402
from purenet.xlsx import report_metrics as rm  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import xlsx_recalc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "spreadsheets" / "report.xlsx"
N_TEST = 400
HIDDEN = 12

HISTORY = [
    {"epoch": 1, "lr": 0.2, "train_loss": 0.64, "train_accuracy": 0.80, "val_accuracy": 0.86,
     "seconds": 92.5, "train_examples": 5000},
    {"epoch": 2, "lr": 0.1, "train_loss": 0.27, "train_accuracy": 0.91, "val_accuracy": 0.93,
     "seconds": 125.25, "train_examples": 5000},
]
HYPER = {"sizes": [784, HIDDEN, 10], "lr": 0.2, "momentum": 0.9, "batch_size": 128, "epochs": 3,
         "schedule": "cosine", "seed": 4, "test": {"accuracy": 0.5, "macro_f1": 0.4,
                                                  "seconds": 1.0},
         "train_seconds": 217.75, "python": "3.11.7"}


@pytest.fixture(scope="module")
def test_set():
    full = load_mnist("test")
    return Dataset(full.images[:N_TEST], full.labels[:N_TEST], full.rows, full.cols)


@pytest.fixture(scope="module")
def model():
    return Model(params=he_init((784, HIDDEN, 10), 4), hyperparameters=HYPER,
                 history=[dict(e) for e in HISTORY])


@pytest.fixture(scope="module")
def predictions(model, test_set):
    P = predict_probabilities(model.params, test_set.images)
    return P, [argmax(p) for p in P]


def answers(test_set, predictions):
    """What the report is built from (commands/report.py hands it): each test image's
    predicted digit and its p."""
    P, predicted = predictions
    return rep.findings_of(test_set, predicted, [p[k] for p, k in zip(P, predicted)])


@pytest.fixture(scope="module")
def book(model, test_set, predictions):
    return rep.build_report(model, test_set, "model.json", answers(test_set, predictions))


@pytest.fixture(scope="module")
def data(book):
    return book.to_bytes()


@pytest.fixture(scope="module")
def wb(data):
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def values(data):
    """The workbook as a viewer that never recalculates sees it (cached values)."""
    return openpyxl.load_workbook(io.BytesIO(data), data_only=True)


def cells_by_text(ws, text):
    return [c for row in ws.iter_rows() for c in row if c.value == text]


def right_of(ws, label, offset=1):
    """The cell `offset` columns right of the (only) cell holding `label`."""
    [cell] = cells_by_text(ws, label)
    return ws.cell(row=cell.row, column=cell.column + offset)


def as_saved(value):
    """A constant as openpyxl saves it: 16 significant digits ("%.16g"), not repr's 17."""
    return float("%.16g" % value)


def fill_of(cell):
    return cell.fill.fgColor.rgb[-6:]


# --- the numbers -------------------------------------------------------------------------

def test_mistakes_are_the_most_confident_wrong_predictions(test_set, predictions):
    P, predicted = predictions
    p_predicted = [p[k] for p, k in zip(P, predicted)]
    found = rep.most_confident_mistakes(test_set, predicted, p_predicted, 30)
    wrong = [i for i in range(N_TEST) if predicted[i] != test_set.labels[i]]
    assert len(wrong) > 30                      # an untrained net: plenty to choose from
    assert len(found) == 30
    assert all(m.predicted != m.true == test_set.labels[m.index] for m in found)
    confidences = [m.p_predicted for m in found]
    assert confidences == sorted(confidences, reverse=True)
    left_out = max(P[i][predicted[i]] for i in wrong if i not in {m.index for m in found})
    assert left_out <= confidences[-1]
    assert found[0].image == test_set.images[found[0].index]


def test_mistakes_tie_break_by_test_position():
    test = Dataset([bytes([k]) for k in range(4)], [0, 0, 0, 1], 1, 1)
    found = rep.most_confident_mistakes(test, [1, 1, 0, 1], [0.8, 0.8, 0.9, 0.8], 5)
    assert [m.index for m in found] == [0, 1]


def test_colours():
    assert pic.pixel_colour(0) == "FFFFFF" and pic.pixel_colour(255) == "000000"
    assert pic.pixel_colour(128) == "7F7F7F"
    assert pic.weight_colour(0.0, 0.5) == "FFFFFF"
    assert pic.weight_colour(0.5, 0.5) == "B2182B"           # full red
    assert pic.weight_colour(-0.5, 0.5) == "2166AC"          # full blue
    assert pic.weight_colour(0.25, 0.5) == pic.hex_colour(pic.blend(pic.WHITE, pic.RED, 0.5))
    assert pic.weight_colour(0.0, 0.0) == "FFFFFF"           # an all-zero unit


# --- the workbook ------------------------------------------------------------------------

def test_sheets_in_order_and_summary_links_to_each(wb):
    assert wb.sheetnames == ["Summary", "History", "Metrics", "Mistakes", "Hidden units"]
    links = {c.hyperlink.location for row in wb["Summary"].iter_rows() for c in row
             if c.hyperlink is not None}
    assert links == {"History!A1", "Metrics!A1", "Mistakes!A1", "'Hidden units'!A1"}
    for title in wb.sheetnames[1:]:
        assert wb[title]["A1"].hyperlink.location == "Summary!A1"


def test_summary_facts(values, book, test_set, predictions):
    ws = values["Summary"]
    report = metrics.classification_report(test_set.labels, predictions[1], 10)
    assert right_of(ws, "test accuracy").value == report.accuracy
    assert right_of(ws, "macro F1").value == report.macro.f1
    assert right_of(ws, "when trained").value == 0.5
    assert right_of(ws, "sizes").value == f"784-{HIDDEN}-10"
    assert right_of(ws, "parameters").value == HIDDEN * 785 + 10 * (HIDDEN + 1)
    assert right_of(ws, "epochs").value == "2 of 3"
    assert right_of(ws, "training time").value == "3m38s"
    assert right_of(ws, "Python").value == "3.11.7"
    assert right_of(ws, "batch size").value == 128
    assert right_of(ws, "schedule").value == "cosine"


def test_summary_results_are_formulas_of_the_metrics_sheet(wb):
    assert right_of(wb["Summary"], "test accuracy").value.startswith("=Metrics!")
    assert right_of(wb["Summary"], "macro F1").value.startswith("=Metrics!")


def test_history_table_and_charts(values, wb):
    ws = values["History"]
    name, corner = cells_by_text(ws, "epoch")              # the block's name, then its corner
    assert corner.row == name.row + 1
    header = {ws.cell(row=corner.row, column=c).value: c for c in range(2, 8)}
    assert list(header) == ["learning rate", "train loss", "train accuracy",
                            "validation accuracy", "seconds", None]
    rows = [[ws.cell(row=corner.row + 1 + i, column=header[name]).value
             for name in ("learning rate", "train loss", "validation accuracy", "seconds")]
            for i in range(2)]
    assert rows == [[0.2, 0.64, 0.86, 92.5], [0.1, 0.27, 0.93, 125.25]]
    assert right_of(ws, "total seconds").value == 217.75
    assert right_of(ws, "best validation").value == 0.93
    assert wb["History"]["B" + str(corner.row + 1 + 2)].value is None
    charts = wb["History"]._charts
    assert len(charts) == 2
    titles = [c.title.tx.rich.p[0].r[0].t for c in charts]
    assert titles == ["Training loss per epoch", "Accuracy per epoch"]
    for chart in charts:
        assert chart.x_axis.title is not None and chart.y_axis.title is not None
    assert len(charts[1].series) == 2                  # train and validation


def test_best_validation_is_the_highest_of_any_epoch_not_the_last():
    # Validation accuracy rises, then falls: the best is epoch 2's 0.95, not the last 0.93.
    history = [dict(HISTORY[0]), {**HISTORY[1], "val_accuracy": 0.95},
               {**HISTORY[1], "epoch": 3, "val_accuracy": 0.93}]
    book = Book("history")
    rep.write_history(book.sheet("History"), history)
    data = book.to_bytes()
    values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)["History"]
    assert right_of(values, "best validation").value == 0.95
    # and its formula takes the largest of the whole column, as LibreOffice would
    formula = right_of(openpyxl.load_workbook(io.BytesIO(data))["History"], "best validation")
    match = re.fullmatch(r"=MAX\(([A-Z]+\d+:[A-Z]+\d+)\)", formula.value)
    assert match, formula.value
    column = [row[0].value for row in values[match.group(1)]]
    assert column == [0.86, 0.95, 0.93]


def test_history_without_epochs(model, test_set):
    bare = Model(params=model.params, hyperparameters={}, history=[])
    findings = rep.Findings(metrics.classification_report([0, 1], [0, 1], 10), [])
    wb = openpyxl.load_workbook(io.BytesIO(
        rep.build_report(bare, test_set, "m.json", findings).to_bytes()))
    assert wb["History"]._charts == []
    assert cells_by_text(wb["History"], "This model file records no per-epoch history.")
    assert cells_by_text(wb["Mistakes"], "The network got every test image right.")
    assert right_of(wb["Summary"], "Python").value == "not recorded"
    assert cells_by_text(wb["Hidden units"], "The model does not record the seed and sizes it "
                         "started from, so what training changed cannot be drawn.")


def confusion_block(ws):
    [corner] = cells_by_text(ws, "true \\ pred")
    return corner.row + 1, corner.column + 1


def test_confusion_matrix_is_metrics_py(values, test_set, predictions):
    ws = values["Metrics"]
    top, left = confusion_block(ws)
    C = metrics.confusion_matrix(test_set.labels, predictions[1], 10)
    assert [[ws.cell(row=top + i, column=left + j).value for j in range(10)]
            for i in range(10)] == C
    assert [ws.cell(row=top - 1, column=left + j).value for j in range(10)] == \
        [f"pred {j}" for j in range(10)]
    assert ws.cell(row=top + 3, column=left - 1).value == "true 3"


def test_confusion_heatmap_green_diagonal_red_rest(wb):
    rules = {str(cf.sqref): cf.rules[0] for cf in wb["Metrics"].conditional_formatting}
    diagonal = [r for sq, r in rules.items() if len(sq.split()) == 10]
    rest = [r for sq, r in rules.items() if len(sq.split()) == 90]
    assert len(diagonal) == len(rest) == 1
    assert diagonal[0].colorScale.color[-1].rgb.endswith(rm.RIGHT_COLOUR)
    assert rest[0].colorScale.color[-1].rgb.endswith(rm.WRONG_COLOUR)
    assert rest[0].colorScale.cfvo[0].val == 0          # white at 0, not at the smallest


def test_per_digit_cached_values_are_metrics_py(values, test_set, predictions):
    ws = values["Metrics"]
    report = metrics.classification_report(test_set.labels, predictions[1], 10)
    [corner] = cells_by_text(ws, "digit")
    for k, c in enumerate(report.per_class):
        row = [ws.cell(row=corner.row + 1 + k, column=corner.column + 1 + j).value
               for j in range(5)]
        predicted = sum(r[k] for r in report.confusion)
        assert row == [c.support, predicted, c.precision, c.recall, c.f1]
    assert right_of(ws, "macro", 1).value == report.macro.precision
    assert right_of(ws, "macro", 3).value == report.macro.f1
    assert right_of(ws, "weighted", 2).value == report.weighted.recall
    assert right_of(ws, "all digits", 2).value == N_TEST
    assert right_of(ws, "all digits", 3).value == report.accuracy


def test_metrics_are_formulas_of_the_confusion_cells(wb):
    ws = wb["Metrics"]
    top, left = confusion_block(ws)
    [corner] = cells_by_text(ws, "digit")
    L = openpyxl.utils.get_column_letter
    diag_2 = f"{L(left + 2)}{top + 2}"                      # C[2,2]
    row = corner.row + 1 + 2                                 # digit 2
    col = {name: L(corner.column + 1 + j) for j, name in
           enumerate(["support", "predicted", "precision", "recall", "F1"])}
    assert ws[f"{col['support']}{row}"].value == \
        f"=SUM({L(left)}{top + 2}:{L(left + 9)}{top + 2})"
    assert ws[f"{col['predicted']}{row}"].value == f"=SUM({L(left + 2)}{top}:{L(left + 2)}{top + 9})"
    assert ws[f"{col['precision']}{row}"].value == \
        f"=IF({col['predicted']}{row}>0,{diag_2}/{col['predicted']}{row},0)"
    assert ws[f"{col['recall']}{row}"].value == \
        f"=IF({col['support']}{row}>0,{diag_2}/{col['support']}{row},0)"
    P, R = f"{col['precision']}{row}", f"{col['recall']}{row}"
    assert ws[f"{col['F1']}{row}"].value == f"=IF({P}+{R}>0,2*{P}*{R}/({P}+{R}),0)"
    weighted_f1 = right_of(ws, "weighted", 3).value
    assert weighted_f1.startswith("=SUMPRODUCT(") and "/SUM(" in weighted_f1
    assert right_of(ws, "macro", 1).value.endswith("/10")


def test_every_formula_has_a_cached_value(data, book):
    path = io.BytesIO(data)
    formulas = {(ws.title, c.coordinate) for ws in openpyxl.load_workbook(path)
                for row in ws.iter_rows() for c in row if c.data_type == "f"}
    assert formulas == set(book.cached_values())
    assert len(formulas) == book.formula_count == 63


def picture_cells(ws, top, left, side=28):
    return [[ws.cell(row=top + r, column=left + c) for c in range(side)] for r in range(side)]


def test_mistakes_drawn_in_grey(wb, test_set, predictions):
    ws = wb["Mistakes"]
    P, predicted = predictions
    p_predicted = [p[k] for p, k in zip(P, predicted)]
    found = rep.most_confident_mistakes(test_set, predicted, p_predicted, 30)
    firsts = [c for c in cells_by_text(ws, found[0].true)
              if c.number_format == '"true "0']
    top, left = firsts[0].row, firsts[0].column
    assert (top, left) == (5, 2)
    assert ws.cell(row=top, column=left + 14).value == found[0].predicted
    assert ws.cell(row=top + 1, column=left).value == as_saved(found[0].p_predicted)
    assert ws.cell(row=top + 1, column=left + 14).value == found[0].index
    cells = picture_cells(ws, top + 2, left)
    image = found[0].image
    assert [c.value for row in cells for c in row] == list(image)
    assert all(fill_of(c) == pic.pixel_colour(c.value) for row in cells for c in row)
    assert all(c.number_format == ";;;" for row in cells for c in row)
    # the seventh mistake starts the second row of pictures, under the first
    seventh = ws.cell(row=top + 2 + 28 + 1, column=left)
    assert seventh.value == found[6].true
    assert [c.value for c in picture_cells(ws, top + 33, left)[14]] == \
        list(found[6].image[14 * 28:15 * 28])
    assert [b.id for b in ws.row_breaks.brk] == [top + 3 * 31 - 1]   # a page per 3 rows
    assert ws.row_dimensions[top + 2].height == pic.PIXEL_HEIGHT
    assert ws.column_dimensions["C"].width == pic.PIXEL_WIDTH


def test_hidden_units_drawn_blue_white_red(wb, model):
    ws = wb["Hidden units"]
    units = [c for row in ws.iter_rows() for c in row if c.number_format == '"unit "0']
    # fewer than 16 units: all of them, their change since he_init first, then as trained
    assert [u.value for u in units] == list(range(1, HIDDEN + 1)) * 2
    unchanged = picture_cells(ws, units[2].row + 2, units[2].column)
    assert {c.value for row in unchanged for c in row} == {0}   # this "model" is he_init itself
    assert {fill_of(c) for row in unchanged for c in row} == {"FFFFFF"}
    third = units[HIDDEN + 2]
    W = model.params.W1[2]
    cells = picture_cells(ws, third.row + 2, third.column)
    shown = [float(f"{w:.4g}") for w in W]                    # 4 significant digits
    assert [c.value for row in cells for c in row] == shown
    largest = max(abs(w) for w in shown)
    assert ws.cell(row=third.row, column=third.column + 14).value == largest
    assert ws.cell(row=third.row + 1, column=third.column).value == model.params.b1[2]
    assert [fill_of(c) for row in cells for c in row] == \
        [pic.weight_colour(w, largest) for w in shown]
    flat = [c for row in cells for c in row]
    extreme = max(range(784), key=lambda j: abs(W[j]))
    assert fill_of(flat[extreme]) == ("B2182B" if W[extreme] > 0 else "2166AC")
    for w, cell in zip(W, flat):
        red, blue = int(fill_of(cell)[:2], 16), int(fill_of(cell)[4:], 16)
        if abs(w) > largest / 32:                     # not rounded to white
            assert (red > blue) == (w > 0)


def test_at_most_16_units(test_set):
    big = Model(params=he_init((784, 20, 10), 0))
    findings = rep.Findings(metrics.classification_report([0], [0], 10), [])
    wb = openpyxl.load_workbook(io.BytesIO(
        rep.build_report(big, test_set, "m.json", findings).to_bytes()))
    units = [c.value for row in wb["Hidden units"].iter_rows() for c in row
             if c.number_format == '"unit "0']
    assert units == list(range(1, 17))


def test_byte_reproducible(model, test_set, data, predictions):
    again = rep.build_report(model, test_set, "model.json",
                             answers(test_set, predictions)).to_bytes()
    assert again == data


# --- the command -------------------------------------------------------------------------

def purenet(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "purenet", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def small_model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-model") / "model.json"
    save_model(str(path), Model(params=he_init((784, 4, 10), 1), hyperparameters=HYPER,
                                history=HISTORY))
    return path


def test_command_writes_the_same_bytes_twice(small_model_file, tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for out in (first, second):
        done = purenet("report", str(small_model_file), "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"wrote {out}: ")
        assert "63 formulas" in done.stdout
    assert first.read_bytes() == second.read_bytes()
    wb = openpyxl.load_workbook(first, data_only=True)
    assert right_of(wb["Metrics"], "all digits", 2).value == 10000


@pytest.mark.parametrize("args, code, message", [
    (["report", "missing.json"], 1, "missing.json"),
    (["report", "{model}", "--out", "{tmp}"], 2, "is a directory"),
    (["report", "{model}", "--out", "{tmp}/no/such/dir/r.xlsx"], 2, "does not exist"),
])
def test_command_errors_are_one_line(args, code, message, small_model_file, tmp_path):
    args = [a.format(model=small_model_file, tmp=tmp_path) for a in args]
    done = purenet(*args)
    assert done.returncode == code
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_a_failed_write_keeps_the_old_file(book, tmp_path, monkeypatch):
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"old report")

    def full_disk(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_create_new_file", full_disk)
    with pytest.raises(OSError):
        book.save(str(out))
    assert out.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]


def test_model_of_the_wrong_shape(tmp_path):
    path = tmp_path / "tiny.json"
    save_model(str(path), Model(params=he_init((4, 3, 3), 0)))
    done = purenet("report", str(path), "--out", str(tmp_path / "r.xlsx"))
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.xlsx").exists()


# --- checked by LibreOffice --------------------------------------------------------------

def require_soffice():
    if xlsx_recalc.find_soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice (LibreOffice) is required in CI")
        pytest.skip("LOUD SKIP: soffice (LibreOffice) is not installed, so the report's "
                    "formulas were NOT checked by a spreadsheet engine")


def test_libreoffice_recalculates_every_formula_to_pythons_value(data, book, tmp_path):
    require_soffice()
    made = tmp_path / "made.xlsx"
    made.write_bytes(data)
    books = [made] + ([COMMITTED] if COMMITTED.exists() else [])
    recalculated = xlsx_recalc.recalculate(books, tmp_path / "out")
    problems = []
    checked = 0
    for original, redone in zip(books, recalculated):
        cells = sorted(xlsx_recalc.formula_cells(original))
        expected = xlsx_recalc.values_at(original, cells)
        if original == made:
            assert expected == {cell: book.cached_values()[cell] for cell in cells}
        problems += xlsx_recalc.compare(expected, xlsx_recalc.values_at(redone, cells))
        checked += len(cells)
    assert problems == []
    assert checked == 63 * len(books)


def test_committed_report_is_present_and_small():
    assert COMMITTED.exists()
    assert COMMITTED.stat().st_size < 1_000_000
    wb = openpyxl.load_workbook(COMMITTED, data_only=True)
    assert wb.sheetnames == ["Summary", "History", "Metrics", "Mistakes", "Hidden units"]
    assert right_of(wb["Metrics"], "all digits", 2).value == 10000


def test_train_with_report_flag(tmp_path):
    out = tmp_path / "run"
    done = purenet("train", "--hidden", "8", "--limit", "256", "--val-size", "100",
                   "--epochs", "1", "--batch-size", "32", "--out", str(out), "--report")
    assert done.returncode == 0, done.stderr
    assert f"wrote {out / 'report.xlsx'}: " in done.stdout
    wb = openpyxl.load_workbook(out / "report.xlsx", data_only=True)
    assert right_of(wb["Summary"], "epochs").value == "1 of 1"
    assert right_of(wb["Summary"], "training images").value == 256
    assert right_of(wb["Summary"], "validation images").value == 100
    # The change since he_init(sizes, seed): exactly 0 for a pixel no training image lights
    # (the top-left corner), which holds only if the start weights are the run's own.
    units = [c for row in wb["Hidden units"].iter_rows() for c in row
             if c.number_format == '"unit "0']
    assert [u.value for u in units] == list(range(1, 9)) * 2     # the change, then the weights
    changed = units[0]
    corner = wb["Hidden units"].cell(row=changed.row + 2, column=changed.column)
    assert corner.value == 0
    trained = wb["Hidden units"].cell(row=units[8].row + 2, column=units[8].column)
    assert trained.value != 0


# --- lengths that zip would quietly cut to the shortest ---------------------------------------

@pytest.mark.parametrize("cut", ["predicted", "p_predicted"])
def test_mistakes_refuse_answers_for_fewer_images_than_the_test_set(test_set, predictions, cut):
    P, predicted = predictions
    answers = {"predicted": predicted, "p_predicted": [p[k] for p, k in zip(P, predicted)]}
    answers[cut] = answers[cut][:-1]
    with pytest.raises(ValueError, match=f"^{len(test_set.labels)} test images but"):
        rep.most_confident_mistakes(test_set, answers["predicted"], answers["p_predicted"], 30)
