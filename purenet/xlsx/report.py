"""The training report of ``purenet report``: what a trained network does, as pictures.

    Summary        sizes, hyper-parameters, epochs, training time, Python, test
                   accuracy and macro F1, and a link to every other sheet
    History        one row per epoch, and line charts of the loss and the accuracies
    Metrics        the 10 x 10 confusion matrix C as a heatmap, and each digit's
                   precision, recall, F1 and support as formulas of C's cells
    Mistakes       the 30 wrong test predictions the network was surest of, drawn
    Hidden units   the incoming weights of the first 16 hidden units, and how
                   training changed them, drawn

The network predicts, for each test image x (x_j = pixel_j / 255), the
probabilities p = softmax(z2) and the digit k = argmax_k p_k, with its
probability p_k (speed.predict_with_confidence; purenet train stores both
in the model file, and purenet report reuses them when they are the
model's own, see model_io.py).  From the true and predicted digits,
metrics.py computes

    C[i,j]        test images of digit i predicted as j (rows true, columns predicted)
    support_k     = sum_j C[k,j]      predicted_k = sum_i C[i,k]
    precision_k   = C[k,k] / predicted_k          (0 if predicted_k = 0)
    recall_k      = C[k,k] / support_k            (0 if support_k = 0)
    F1_k          = 2 precision_k recall_k / (precision_k + recall_k)   (0 if both are 0)
    accuracy      = sum_k C[k,k] / N
    macro average = (1/10) sum_k m_k,   weighted average = sum_k support_k m_k / N

and the Metrics sheet writes each of these as a formula of the confusion
matrix's cells (IF for the empty denominators, SUMPRODUCT for the weighted
average), with metrics.py's number as the cached value, so the workbook
shows how each figure is defined and LibreOffice can check it
(tests/xlsx_recalc.py).

A mistake is a test image whose predicted digit is not its label; its
confidence is p_predicted, the probability the network gave its wrong
answer.  The Mistakes sheet draws the N_MISTAKES most confident ones
(ties: the earlier test image first) as 28 x 28 blocks of small square
cells, pixel (r, c) = pixel_(28r + c) at row r, column c, each filled in
grey: white for 0 (paper) to black for 255 (ink).

Hidden unit i computes z1_i = sum_j W1[i,j] x_j + b1_i, so its incoming
weights W1[i, 28r + c] form a 28 x 28 picture of the input it responds to:
red where ink raises z1_i, blue where ink lowers it, white for 0, each
picture scaled to its own largest |W1[i,j]|.  After a short run the
weights are still mostly their random start, so a second set of pictures
shows the change W1 - W1_start, with W1_start = network.he_init(sizes,
seed), where purenet train began: a pixel that is 0 in every training
image gets no gradient, so its weights never change (white).

Picture cells hold the pixel or the weight (click one to read it) with a
number format that hides it, and a fixed fill colour that shows it, so
every viewer draws the same picture, recalculating or not.  Everything
else follows book.py: kinds of cell by colour, a note with the equation
on each block, cached values, byte-reproducible saving.
"""

from copy import copy
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from openpyxl.chart import LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ..matrix import Matrix, Vector, msub
from ..metrics import Report, classification_report
from ..mnist import Dataset, N_CLASSES
from ..model_io import Model
from ..network import he_init
from ..progress import format_duration
from .book import (CHECK, INPUT, INTERMEDIATE, Area, Block, Book, Formula, Kind,
                   Ref, Sheet)

N_MISTAKES = 30
N_UNITS = 16
PICTURES_PER_ROW = 6

SHEETS = ("Summary", "History", "Metrics", "Mistakes", "Hidden units")

# Kinds of cell in a report, in the trace workbooks' colours.
COUNT = Kind("count", INPUT.fill, INPUT.tint,
             "counted from the test predictions: the confusion matrix "
             "(type over a count and the metrics recompute)", False)
METRIC = Kind("metric", INTERMEDIATE.fill, INTERMEDIATE.tint,
              "a formula of other cells: support, precision, recall, F1, averages, totals", True)
RECORD = Kind("record", CHECK.fill, CHECK.tint,
              "recorded by purenet train: hyper-parameters and the per-epoch history", False)
REPORT_KINDS = (COUNT, METRIC, RECORD)

# Number formats: what a learner reads, not 6 significant digits of everything.
RATE = "0.0000"
PERCENT = "0.00%"
WHOLE = "0"
THOUSANDS = "#,##0"
SECONDS = "0.0"
HIDDEN = ";;;"            # a picture cell keeps its number but shows only its fill
SCALE_FORMAT = '"+-"0.000'
BIAS_FORMAT = '"bias b1 = "0.0000;"bias b1 = -"0.0000'

# Pictures: square cells (about 12 x 12 pixels in Excel and LibreOffice).
PIXEL_WIDTH = 1.0         # column width, in characters
PIXEL_HEIGHT = 9.0        # row height, in points
CAPTION_ROWS = 2
BANDS_PER_PAGE = 3        # rows of pictures on a printed page
BLUE, WHITE, RED = (0x21, 0x66, 0xAC), (0xFF, 0xFF, 0xFF), (0xB2, 0x18, 0x2B)
WEIGHT_LEVELS = 16        # shades per sign: 33 colours in all
PICTURE_DIGITS = 4        # significant digits a weight picture's cells keep

# The confusion matrix's heatmap: the diagonal (right) in green, the rest (wrong) in red,
# each from white at 0 to full colour at its largest count.
RIGHT_COLOUR, WRONG_COLOUR = "63BE7B", "F8696B"


# --- what the network does on the test set --------------------------------------------

@dataclass(frozen=True)
class Mistake:
    """A wrong test prediction: the image, its label, the digit predicted and how surely."""
    index: int            # position in the test set
    image: bytes
    true: int
    predicted: int
    p_predicted: float    # the confidence of the wrong answer


@dataclass
class Findings:
    """The test set's metrics (metrics.py) and the most confident mistakes."""
    report: Report
    mistakes: List[Mistake]


def findings_of(test: Dataset, predicted: Sequence[int], p_predicted: Sequence[float],
                n_mistakes: int = N_MISTAKES) -> Findings:
    """Metrics from the predicted digits, mistakes ranked by their p_predicted.

    These two lists are all the report needs of the network's answers, so
    answers stored at the end of training give the same workbook, byte for
    byte, as classifying the images again.
    """
    report = classification_report(test.labels, predicted, N_CLASSES)
    return Findings(report, most_confident_mistakes(test, predicted, p_predicted, n_mistakes))


def most_confident_mistakes(test: Dataset, predicted: Sequence[int],
                            p_predicted: Sequence[float], n: int) -> List[Mistake]:
    """The n wrong predictions with the largest p_predicted, surest first."""
    if not len(test.labels) == len(predicted) == len(p_predicted):
        # zip would stop at the shortest and quietly leave images out
        raise ValueError(f"{len(test.labels)} test images but {len(predicted)} predicted digits "
                         f"and {len(p_predicted)} probabilities")
    wrong = [i for i, (label, guess) in enumerate(zip(test.labels, predicted)) if label != guess]
    wrong.sort(key=lambda i: (-p_predicted[i], i))
    return [Mistake(i, test.images[i], test.labels[i], predicted[i], p_predicted[i])
            for i in wrong[:n]]


# --- colours --------------------------------------------------------------------------

def hex_colour(rgb: Tuple[float, float, float]) -> str:
    return "".join(f"{round(c):02X}" for c in rgb)


def blend(a: Tuple[int, int, int], b: Tuple[int, int, int], t: float) -> Tuple[float, ...]:
    """The colour a fraction t (0..1) of the way from a to b."""
    return tuple(ca + (cb - ca) * t for ca, cb in zip(a, b))


def pixel_colour(pixel: int) -> str:
    """Grey level: 0 (paper) white, 255 (ink) black."""
    return PIXEL_COLOURS[pixel]


def weight_colour(w: float, largest: float) -> str:
    """Blue for negative, white for 0, red for positive; full colour at |w| = largest.

    Shades are rounded to WEIGHT_LEVELS steps per sign, so a picture uses
    at most 2 * WEIGHT_LEVELS + 1 fills.
    """
    level = 0 if largest == 0 else round(WEIGHT_LEVELS * w / largest)
    return WEIGHT_COLOURS[level + WEIGHT_LEVELS]


PIXEL_COLOURS = [hex_colour((255 - pixel,) * 3) for pixel in range(256)]
# level -WEIGHT_LEVELS .. WEIGHT_LEVELS, at index level + WEIGHT_LEVELS
WEIGHT_COLOURS = [hex_colour(blend(WHITE, BLUE, -level / WEIGHT_LEVELS) if level < 0
                             else blend(WHITE, RED, level / WEIGHT_LEVELS))
                  for level in range(-WEIGHT_LEVELS, WEIGHT_LEVELS + 1)]


# --- small pieces of layout -----------------------------------------------------------

def set_format(sheet: Sheet, ref: Ref, number_format: str) -> None:
    sheet.ws.cell(row=ref.row, column=ref.col).number_format = number_format


def format_column(sheet: Sheet, block: Block, j: int, number_format: str) -> None:
    for i in range(block.rows):
        set_format(sheet, block.at(i, j), number_format)


def planned_block(sheet: Sheet, name: str, origin: Tuple[int, int],
                  row_labels: Sequence[str], col_labels: Sequence[str]) -> Block:
    """Where sheet.block(..., origin=origin) will put its entries.

    A block whose entries refer to each other (F1 to precision and recall
    in the same row) needs its own cells' addresses before it is written;
    block_as_planned writes it and checks that it landed there.
    """
    top, label_col = origin
    return Block(name, sheet.title, top + 2, label_col + 1, tuple(row_labels), tuple(col_labels))


def block_as_planned(sheet: Sheet, plan: Block, title: str, note: str, kind: Kind,
                     entry: Callable[[int, int], Formula], corner: str = "") -> Block:
    written = sheet.block(plan.name, title, note, kind, plan.row_labels, plan.col_labels, entry,
                          corner=corner, origin=(plan.top - 2, plan.left - 1))
    if written != plan:
        raise RuntimeError(f"block {plan.name} landed at {written}, not at {plan}")
    return written


def fact(sheet: Sheet, label: str, value: Any, meaning: str = "",
         number_format: Optional[str] = None, kind: Kind = RECORD) -> Optional[Ref]:
    """One line of the Summary: label, value (number, Formula or text), what it means."""
    row = sheet.row
    sheet.text(row, 1, label, bold=True)
    ref = None
    if isinstance(value, (int, float, Formula)) and not isinstance(value, bool):
        ref = sheet.put(row, 2, value, kind)
        if number_format is None:
            number_format = WHOLE if isinstance(value, int) else "General"
        set_format(sheet, ref, number_format)
    else:
        sheet.text(row, 2, str(value))
    if meaning:
        sheet.text(row, 3, meaning, fits=False)
    sheet.row += 1
    return ref


def line_chart(sheet: Sheet, anchor: str, title: str, x_title: str, y_title: str,
               categories: Area, series: Sequence[Tuple[Area, str]],
               y_format: Optional[str] = None, y_max: Optional[float] = None) -> None:
    """A line chart of one or more columns against the categories, axes titled."""
    chart = LineChart()
    chart.title = title
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    # openpyxl 3.1 leaves the axes' "delete" unset, which newer Excel reads as hidden.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if y_format:
        chart.y_axis.number_format = y_format
    if y_max is not None:
        chart.y_axis.scaling.max = y_max
    for values, name in series:
        chart.add_data(Reference(sheet.ws, min_col=values.left, min_row=values.top,
                                 max_col=values.right, max_row=values.bottom))
        chart.series[-1].tx = SeriesLabel(v=name)
    chart.set_categories(Reference(sheet.ws, min_col=categories.left, min_row=categories.top,
                                   max_col=categories.right, max_row=categories.bottom))
    if len(series) == 1:
        chart.legend = None
    else:
        chart.legend.position = "b"
    chart.width, chart.height = 16, 8
    sheet.ws.add_chart(chart, anchor)


# --- pictures -------------------------------------------------------------------------

_CENTRED = Alignment(horizontal="center")


def caption(sheet: Sheet, row: int, left: int, width: int, value: float, number_format: str,
            bold: bool = False, colour: Optional[str] = None) -> None:
    """A number across `width` merged cells, shown through its format ('"true "0' -> true 4)."""
    cell = sheet.ws.cell(row=row, column=left, value=value)
    cell.number_format = number_format
    cell.alignment = _CENTRED
    cell.font = Font(bold=bold, color=colour)
    sheet.ws.merge_cells(start_row=row, start_column=left, end_row=row,
                         end_column=left + width - 1)


Palette = Dict[str, Any]     # fill colour -> the style (openpyxl StyleArray) of a picture cell


def draw(sheet: Sheet, top: int, left: int, side: int, values: Sequence[float],
         colour: Callable[[float], str], palette: Palette) -> None:
    """values[side * r + c] in the cell at (top + r, left + c), filled with colour(value).

    The first cell of each colour is styled the ordinary way and its style
    kept in `palette` (one per workbook); later cells copy it, openpyxl's
    documented way to copy a cell's look.  Setting cell.fill instead looks
    the fill up among all the workbook's fills, which for 36,000 picture
    cells takes many seconds.
    """
    for r in range(side):
        for c in range(side):
            value = values[side * r + c]
            cell = sheet.ws.cell(row=top + r, column=left + c, value=value)
            name = colour(value)
            if name in palette:
                cell._style = copy(palette[name])
            else:
                cell.fill = PatternFill(fill_type="solid", start_color=name, end_color=name)
                cell.number_format = HIDDEN
                palette[name] = copy(cell._style)


def picture_grid(sheet: Sheet, count: int, side: int,
                 draw_one: Callable[[int, int, int], None]) -> None:
    """Lay out `count` pictures, PICTURES_PER_ROW to a row, from the sheet's next free row.

    draw_one(n, top, left) draws picture n with its captions starting at
    (top, left): CAPTION_ROWS rows of captions, then side rows of cells.
    A page break after every BANDS_PER_PAGE rows of pictures keeps a
    printed (or PDF) page from cutting a picture in two.
    """
    stride = side + 1                                  # one blank column between pictures
    height = CAPTION_ROWS + side + 1                   # one blank row under each band
    first = sheet.row
    for n in range(count):
        band, place = divmod(n, PICTURES_PER_ROW)
        top = first + band * height
        draw_one(n, top, 2 + place * stride)
        for r in range(top + CAPTION_ROWS, top + CAPTION_ROWS + side):
            sheet.ws.row_dimensions[r].height = PIXEL_HEIGHT
    bands = (count + PICTURES_PER_ROW - 1) // PICTURES_PER_ROW
    for band in range(BANDS_PER_PAGE, bands, BANDS_PER_PAGE):
        page_break(sheet, first + band * height - 1)
    for col in range(2, 2 + min(count, PICTURES_PER_ROW) * stride):
        sheet.set_width(col, PIXEL_WIDTH)
    sheet.row = first + bands * height


def page_break(sheet: Sheet, after_row: int) -> None:
    """Start a new printed page after this row."""
    sheet.ws.row_breaks.append(Break(id=after_row))


# --- the sheets -----------------------------------------------------------------------

@dataclass
class MetricsRefs:
    """The Metrics cells the Summary repeats."""
    accuracy: Ref
    macro_f1: Ref


def write_metrics(sheet: Sheet, report: Report) -> MetricsRefs:
    r = sheet.ref
    C = report.confusion
    K = len(C)
    sheet.header("Metrics: how often each digit is right, from the confusion matrix",
                 f"{report.n:,} test images.  Every figure below the matrix is a formula of its "
                 "cells: click one to see how it is defined.", back_to="Summary")
    sheet.fit_to_page(wide=1, tall=1)
    digits = [str(k) for k in range(K)]
    confusion = sheet.block(
        "C", "confusion matrix: rows the true digit, columns the predicted digit",
        "C[i,j] = the number of test images of digit i that the network predicted as j.\n"
        "The diagonal C[k,k] counts the right answers (green); every other cell is a kind of "
        "mistake (red, darker for more).", COUNT,
        [f"true {k}" for k in digits], [f"pred {k}" for k in digits],
        lambda i, j: C[i][j], corner="true \\ pred", integer=True)
    diagonal = [confusion.at(k, k) for k in range(K)]
    off_diagonal = [confusion.at(i, j) for i in range(K) for j in range(K) if i != j]
    for cells, colour in ((diagonal, RIGHT_COLOUR), (off_diagonal, WRONG_COLOUR)):
        sheet.ws.conditional_formatting.add(" ".join(c.a1 for c in cells), ColorScaleRule(
            start_type="num", start_value=0, start_color="FFFFFF",
            end_type="max", end_color=colour))

    columns = ["support", "predicted", "precision", "recall", "F1"]
    per = planned_block(sheet, "per digit", (sheet.row, 1), [f"digit {k}" for k in digits],
                        columns)
    pc = report.per_class

    def per_digit(k: int, j: int) -> Formula:
        support, predicted = r(per.at(k, 0)), r(per.at(k, 1))
        precision, recall = r(per.at(k, 2)), r(per.at(k, 3))
        right = r(confusion.at(k, k))
        return [
            Formula(f"=SUM({r(confusion.row(k))})", pc[k].support),
            Formula(f"=SUM({r(confusion.column(k))})", sum(C[i][k] for i in range(K))),
            Formula(f"=IF({predicted}>0,{right}/{predicted},0)", pc[k].precision),
            Formula(f"=IF({support}>0,{right}/{support},0)", pc[k].recall),
            Formula(f"=IF({precision}+{recall}>0,2*{precision}*{recall}/({precision}+{recall}),0)",
                    pc[k].f1),
        ][j]

    block_as_planned(
        sheet, per, "each digit's figures, from the row and column of C",
        "support_k = sum_j C[k,j], the test images of digit k (row sum)\n"
        "predicted_k = sum_i C[i,k], the images predicted as k (column sum)\n"
        "precision_k = C[k,k] / predicted_k: of those predicted k, the share that are k\n"
        "recall_k = C[k,k] / support_k: of the k's, the share found\n"
        "F1_k = 2 precision_k recall_k / (precision_k + recall_k), their harmonic mean\n"
        "An empty denominator gives 0 (metrics.py).", METRIC, per_digit, corner="digit")
    format_column(sheet, per, 0, WHOLE)
    format_column(sheet, per, 1, WHOLE)
    for j in (2, 3, 4):
        format_column(sheet, per, j, RATE)

    acc = planned_block(sheet, "accuracy", (per.top - 2, per.left + per.cols + 1),
                        ["all digits"], ["right", "N", "accuracy"])

    def totals(_: int, j: int) -> Formula:
        right = "+".join(r(c) for c in diagonal)
        return [Formula(f"={right}", sum(C[k][k] for k in range(K))),
                Formula(f"=SUM({r(confusion.area())})", report.n),
                Formula(f"={r(acc.at(0, 0))}/{r(acc.at(0, 1))}", report.accuracy)][j]

    block_as_planned(
        sheet, acc, "the share of test images predicted right",
        "accuracy = (C[0,0] + ... + C[9,9]) / N, the diagonal over the total.\n"
        "It equals the weighted average of recall.", METRIC, totals)
    format_column(sheet, acc, 0, THOUSANDS)
    format_column(sheet, acc, 1, THOUSANDS)
    format_column(sheet, acc, 2, PERCENT)

    averages = {"macro": report.macro, "weighted": report.weighted}

    def average(i: int, j: int) -> Formula:
        column = per.column(2 + j)
        figure = list(averages.values())[i]
        value = (figure.precision, figure.recall, figure.f1)[j]
        if i == 0:
            return Formula(f"=SUM({r(column)})/{K}", value)
        support = per.column(0)
        return Formula(f"=SUMPRODUCT({r(support)},{r(column)})/SUM({r(support)})", value)

    below = sheet.row
    avg = sheet.block(
        "averages", "macro and weighted averages over the 10 digits",
        "macro average = (m_0 + ... + m_9) / 10: every digit counts the same.\n"
        "weighted average = sum_k support_k m_k / N: every test image counts the same.\n"
        "m is precision, recall or F1.", METRIC,
        list(averages), ["precision", "recall", "F1"], average,
        origin=(below, per.left + 1))     # under precision, recall, F1
    for j in range(3):
        format_column(sheet, avg, j, RATE)
    for col in range(confusion.left, confusion.left + K):
        sheet.set_width(col, 10)
    return MetricsRefs(accuracy=acc.at(0, 2), macro_f1=avg.at(0, 2))


HISTORY_COLUMNS = (   # (key in the model's history, label, number format)
    ("lr", "learning rate", RATE),
    ("train_loss", "train loss", RATE),
    ("train_accuracy", "train accuracy", PERCENT),
    ("val_accuracy", "validation accuracy", PERCENT),
    ("seconds", "seconds", SECONDS),
)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and value == value and abs(value) != float("inf")


def history_columns(history: Sequence[Dict[str, Any]]) -> List[Tuple[str, str, str]]:
    """The HISTORY_COLUMNS every epoch recorded as a number."""
    return [c for c in HISTORY_COLUMNS if history and all(is_number(e.get(c[0])) for e in history)]


def write_history(sheet: Sheet, history: Sequence[Dict[str, Any]]) -> None:
    r = sheet.ref
    sheet.header("History: one row per epoch, as purenet train recorded it",
                 "Train loss and accuracy are over the epoch's mini-batches (the weights were "
                 "still moving); validation accuracy is after the epoch.", back_to="Summary")
    columns = history_columns(history)
    if not columns:
        sheet.line("This model file records no per-epoch history.")
        return
    top = sheet.row
    table = sheet.block(
        "epoch", "what each epoch recorded",
        "One row per epoch (purenet train):\nlearning rate = eta used in the epoch (schedule)\n"
        "train loss, train accuracy = means over the epoch's mini-batches\n"
        "validation accuracy = on the held-out images, after the epoch\n"
        "seconds = the epoch's wall-clock time", RECORD,
        [str(e.get("epoch", n + 1)) for n, e in enumerate(history)],
        [label for _, label, _ in columns],
        lambda i, j: history[i][columns[j][0]], corner="epoch", origin=(top, 1))
    for j, (_, _, number_format) in enumerate(columns):
        format_column(sheet, table, j, number_format)
    where = {key: table.column(j) for j, (key, _, _) in enumerate(columns)}
    if "seconds" in where:
        fact(sheet, "total seconds", Formula(f"=SUM({r(where['seconds'])})",
                                             sum(e["seconds"] for e in history)),
             "the sum of the epochs' times", SECONDS, METRIC)
    if "val_accuracy" in where:
        fact(sheet, "best validation",
             Formula(f"=MAX({r(where['val_accuracy'])})", max(e["val_accuracy"] for e in history)),
             "the highest validation accuracy of any epoch", PERCENT, METRIC)
    epochs = Area(sheet.title, table.top, 1, table.top + table.rows - 1, 1)
    anchor_col = table.left + table.cols + 1
    right = get_column_letter(anchor_col)
    if "train_loss" in where:
        line_chart(sheet, f"{right}{top}", "Training loss per epoch", "epoch",
                   "cross-entropy L", epochs, [(where["train_loss"], "train loss")])
    accuracies = [(where[k], label) for k, label in
                  (("train_accuracy", "train"), ("val_accuracy", "validation")) if k in where]
    if accuracies:
        line_chart(sheet, f"{right}{top + 17}", "Accuracy per epoch", "epoch", "accuracy",
                   epochs, accuracies, y_format="0%", y_max=1.0)


def write_mistakes(sheet: Sheet, mistakes: Sequence[Mistake], side: int, n_test: int,
                   palette: Palette) -> None:
    sheet.header(f"Mistakes: the {len(mistakes)} wrong answers the network was surest of",
                 f"Out of {n_test:,} test images, surest first.  Each picture is the 28 x 28 "
                 "image, one cell per pixel (click a cell for its value 0..255).  "
                 "p = the probability the network gave its wrong answer.  test #i: "
                 "purenet show i draws it.", back_to="Summary")
    if not mistakes:
        sheet.line("The network got every test image right.")
        return
    half = side // 2

    def one(n: int, top: int, left: int) -> None:
        m = mistakes[n]
        caption(sheet, top, left, half, m.true, '"true "0')
        caption(sheet, top, left + half, side - half, m.predicted, '"predicted "0',
                bold=True, colour="C00000")
        caption(sheet, top + 1, left, half, m.p_predicted, '"p = "0.0000')
        caption(sheet, top + 1, left + half, side - half, m.index, '"test #"0')
        draw(sheet, top + CAPTION_ROWS, left, side, list(m.image), pixel_colour, palette)

    picture_grid(sheet, len(mistakes), side, one)


def start_weights(model: Model) -> Optional[Matrix]:
    """W1 before the first training step, or None if the model does not record how it began.

    purenet train starts from network.he_init(sizes, seed) (train.new_state),
    and he_init gives the same numbers for the same seed on every Python.
    """
    seed = model.hyperparameters.get("seed")
    recorded = model.hyperparameters.get("sizes")
    if not isinstance(seed, int) or isinstance(seed, bool) or recorded is None \
            or list(recorded) != list(model.params.sizes):
        return None
    return he_init(model.params.sizes, seed).W1


def to_digits(w: float) -> float:
    """w rounded to PICTURE_DIGITS significant digits."""
    return float(f"{w:.{PICTURE_DIGITS}g}")


def unit_pictures(sheet: Sheet, rows: Matrix, b1: Vector, side: int, palette: Palette) -> None:
    """One picture per row of `rows` (a hidden unit's 784 incoming numbers), own scale each.

    The cells hold the numbers to PICTURE_DIGITS significant digits: all a
    picture needs, and half the file of all 17 (model.json keeps every digit).
    """
    half = side // 2

    def one(i: int, top: int, left: int) -> None:
        shown = [to_digits(w) for w in rows[i]]
        largest = max(abs(w) for w in shown)
        caption(sheet, top, left, half, i + 1, '"unit "0', bold=True)
        caption(sheet, top, left + half, side - half, largest, SCALE_FORMAT)
        caption(sheet, top + 1, left, side, b1[i], BIAS_FORMAT)
        draw(sheet, top + CAPTION_ROWS, left, side, shown,
             lambda w: weight_colour(w, largest), palette)

    picture_grid(sheet, len(rows), side, one)


def write_hidden_units(sheet: Sheet, model: Model, side: int, palette: Palette) -> None:
    count = min(N_UNITS, model.params.sizes[1])
    W1, b1 = model.params.W1[:count], model.params.b1
    sheet.header(f"Hidden units: what the first {count} respond to",
                 "Unit i's picture is W1[i, 28r + c] at row r, column c: red where ink raises "
                 "z1_i, blue where ink lowers it, white for 0; each picture scaled to its own "
                 f"largest |number| (the +-).  Click a cell for its number ({PICTURE_DIGITS} "
                 "significant digits).", back_to="Summary")
    sheet.heading("The incoming weights W1[i, :] of each unit, as trained")
    unit_pictures(sheet, W1, b1, side, palette)
    start = start_weights(model)
    if start is None:
        sheet.line("The model does not record the seed and sizes it started from, so what "
                   "training changed cannot be drawn.")
        return
    page_break(sheet, sheet.row - 1)
    sheet.heading("What training changed: W1[i, :] now minus W1[i, :] at the start "
                  "(network.he_init of the same sizes and seed)")
    sheet.line("The starting weights are random noise; the change is what the training images "
               "taught.  Pixels that are 0 in every training image never change: white.")
    sheet.skip()
    change = msub(W1, start[:count])           # the first `count` units, both of n_in weights
    unit_pictures(sheet, change, b1, side, palette)


def hyper(model: Model, key: str) -> Any:
    return model.hyperparameters.get(key, "not recorded")


def write_summary(sheet: Sheet, model: Model, findings: Findings, source: str,
                  M: MetricsRefs) -> None:
    report = findings.report
    n_in, n_hidden, n_out = model.params.sizes
    history = model.history
    sheet.header(f"Training report: a {n_in}-{n_hidden}-{n_out} network on MNIST",
                 f"purenet report of {source}: {report.accuracy:.2%} of the {report.n:,} test "
                 "digits right.")
    sheet.fit_to_page(wide=1, tall=1)
    sheet.row = 4
    sheet.heading(f"On the {report.n:,} test images", col=1)
    fact(sheet, "test accuracy", Formula(f"={sheet.ref(M.accuracy)}", report.accuracy),
         "the share predicted right (Metrics sheet)", PERCENT, METRIC)
    fact(sheet, "macro F1", Formula(f"={sheet.ref(M.macro_f1)}", report.macro.f1),
         "the mean of the 10 digits' F1 (Metrics sheet)", RATE, METRIC)
    recorded = model.hyperparameters.get("test")
    if isinstance(recorded, dict) and is_number(recorded.get("accuracy")):
        fact(sheet, "when trained", recorded["accuracy"],
             "the test accuracy purenet train printed at the end", PERCENT)
    sheet.skip()
    sheet.heading("The network", col=1)
    fact(sheet, "sizes", f"{n_in}-{n_hidden}-{n_out}",
         f"x: {n_in} pixels, h = relu(W1 x + b1): {n_hidden} units, p = softmax(W2 h + b2): "
         f"{n_out} digits")
    fact(sheet, "parameters", n_hidden * (n_in + 1) + n_out * (n_hidden + 1),
         "entries of W1, b1, W2, b2", THOUSANDS)
    sheet.skip()
    sheet.heading("Training", col=1)
    finished = len(history)
    fact(sheet, "epochs", f"{finished} of {hyper(model, 'epochs')}",
         "finished of planned passes over the training images")
    examples = model.hyperparameters.get(
        "train_examples", history[-1].get("train_examples") if history else None)
    if is_number(examples):
        fact(sheet, "training images", examples, "the first images of MNIST's training file",
             THOUSANDS)
    if is_number(model.hyperparameters.get("val_size")):
        fact(sheet, "validation images", model.hyperparameters["val_size"],
             "the last images of the training file, held out", THOUSANDS)
    fact(sheet, "learning rate", hyper(model, "lr"), "eta_0, the first epoch's step size")
    fact(sheet, "schedule", hyper(model, "schedule"), "how the learning rate falls by epoch")
    fact(sheet, "momentum", hyper(model, "momentum"), "mu: the share of the last step kept")
    fact(sheet, "batch size", hyper(model, "batch_size"), "examples per gradient step")
    fact(sheet, "seed", hyper(model, "seed"), "of the initial weights and the shuffling")
    seconds = model.hyperparameters.get("train_seconds")
    fact(sheet, "training time", format_duration(seconds) if is_number(seconds)
         else "not recorded", "wall-clock, all epochs (History sheet)")
    fact(sheet, "Python", hyper(model, "python"), "the version that trained it")
    sheet.skip()
    sheet.heading("Contents (click a name)", col=1)
    contents = (("History", "loss and accuracy per epoch, with charts"),
                ("Metrics", "confusion matrix heatmap; precision, recall, F1 per digit"),
                ("Mistakes", f"the {len(findings.mistakes)} most confident wrong answers, drawn"),
                ("Hidden units", "what the first hidden units look for, drawn"))
    for title, meaning in contents:
        sheet.link(sheet.row, 1, title, title)
        sheet.text(sheet.row, 3, meaning, fits=False)
        sheet.row += 1
    sheet.skip()
    sheet.heading("Colours", col=1)
    for kind in REPORT_KINDS:
        sheet.text(sheet.row, 1, kind.name, bold=True, fill=kind.fill)
        sheet.text(sheet.row, 3, kind.meaning, fits=False)
        sheet.row += 1
    sheet.text(sheet.row, 1, "pictures", bold=True)
    sheet.text(sheet.row, 3, "digits in grey (white 0 .. black 255); weights blue (negative) - "
                             "white (0) - red (positive)", fits=False)
    sheet.set_width(3, 70)


# --- the workbook ---------------------------------------------------------------------

def build_report(model: Model, test: Dataset, source: str, findings: Findings) -> Book:
    """The report workbook of `model` on `test`; `source` names the model file."""
    book = Book("purenet: training report")
    sheets = {title: book.sheet(title) for title in SHEETS}
    refs = write_metrics(sheets["Metrics"], findings.report)
    write_summary(sheets["Summary"], model, findings, source, refs)
    write_history(sheets["History"], model.history)
    palette: Palette = {}
    write_mistakes(sheets["Mistakes"], findings.mistakes, test.cols, findings.report.n, palette)
    write_hidden_units(sheets["Hidden units"], model, test.cols, palette)
    return book
