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
probability p_k (the caller's: commands/report.py; purenet train stores both
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

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from openpyxl.utils import get_column_letter

from ..matrix import Matrix, Vector, msub
from ..metrics import Report, classification_report, most_confident_errors
from ..mnist import Dataset, N_CLASSES
from ..model_io import Model
from ..network import he_init
from ..progress import format_duration
from .book import Book, Sheet
from .cells import Area, Formula
from .report_metrics import (METRIC, PERCENT, RATE, RECORD, REPORT_KINDS, SECONDS, THOUSANDS,
                             MetricsRefs, fact, format_column, write_metrics)
from .pictures import (CAPTION_ROWS, PICTURE_DIGITS, Palette, caption, draw, page_break,
                       picture_grid, pixel_colour, weight_colour)

N_MISTAKES = 30
N_UNITS = 16
SCALE_FORMAT = '"+-"0.000'
BIAS_FORMAT = '"bias b1 = "0.0000;"bias b1 = -"0.0000'

SHEETS = ("Summary", "History", "Metrics", "Mistakes", "Hidden units")

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
    """The n wrong predictions with the largest p_predicted, surest first (metrics.py)."""
    if not len(test.labels) == len(predicted) == len(p_predicted):
        # zip would stop at the shortest and quietly leave images out
        raise ValueError(f"{len(test.labels)} test images but {len(predicted)} predicted digits "
                         f"and {len(p_predicted)} probabilities")
    return [Mistake(i, test.images[i], test.labels[i], predicted[i], p_predicted[i])
            for i in most_confident_errors(test.labels, predicted, p_predicted, n)]


# --- the sheets -----------------------------------------------------------------------

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
                 "still moving); validation accuracy is after the epoch.", home="Summary")
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
        lambda i, j: history[i][columns[j][0]], name="history", corner="epoch", origin=(top, 1))
    for j, (_, _, number_format) in enumerate(columns):
        format_column(sheet, table, j, number_format)
    where = {key: table.column_area(j) for j, (key, _, _) in enumerate(columns)}
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
        sheet.chart(f"{right}{top}", "Training loss per epoch", "epoch",
                    "cross-entropy L", epochs, [(where["train_loss"], "train loss")])
    accuracies = [(where[k], label) for k, label in
                  (("train_accuracy", "train"), ("val_accuracy", "validation")) if k in where]
    if accuracies:
        sheet.chart(f"{right}{top + 17}", "Accuracy per epoch", "epoch", "accuracy",
                    epochs, accuracies, y_format="0%", y_max=1.0)


def write_mistakes(sheet: Sheet, mistakes: Sequence[Mistake], side: int, n_test: int,
                   palette: Palette) -> None:
    sheet.header(f"Mistakes: the {len(mistakes)} wrong answers the network was surest of",
                 f"Out of {n_test:,} test images, surest first.  Each picture is the 28 x 28 "
                 "image, one cell per pixel (click a cell for its value 0..255).  "
                 "p = the probability the network gave its wrong answer.  test #i: "
                 "purenet show i draws it.", home="Summary")
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
                 "significant digits).", home="Summary")
    start = start_weights(model)
    if start is not None:
        sheet.heading("What training changed: W1[i, :] now minus W1[i, :] at the start "
                      "(network.he_init of the same sizes and seed)")
        sheet.line("The starting weights are random noise; the change is what the training "
                   "images taught.  Pixels that are 0 in every training image never change: "
                   "white.")
        sheet.skip()
        change = msub(W1, start[:count])       # the first `count` units, both of n_in weights
        unit_pictures(sheet, change, b1, side, palette)
        page_break(sheet, sheet.row - 1)
    sheet.heading("The incoming weights W1[i, :] of each unit, as trained (the random start "
                  "plus the change above)")
    unit_pictures(sheet, W1, b1, side, palette)
    if start is None:
        sheet.line("The model does not record the seed and sizes it started from, so what "
                   "training changed cannot be drawn.")


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
    """The report workbook of `model` on `test`; `source` names the model file.

    `findings` comes from the caller's predictions (findings_of): this
    package does not run the network.
    """
    book = Book("purenet: training report")
    sheets = {title: book.sheet(title) for title in SHEETS}
    refs = write_metrics(sheets["Metrics"], findings.report)
    write_summary(sheets["Summary"], model, findings, source, refs)
    write_history(sheets["History"], model.history)
    palette: Palette = {}
    write_mistakes(sheets["Mistakes"], findings.mistakes, test.cols, findings.report.n, palette)
    write_hidden_units(sheets["Hidden units"], model, test.cols, palette)
    return book
