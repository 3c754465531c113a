"""The report's Metrics sheet, and the report's kinds of cell and number formats.

The confusion matrix C (rows the true digit, columns the predicted one) as
a green (diagonal) and red (mistakes) heatmap, and each digit's support,
precision, recall and F1, the accuracy and the macro and weighted averages
as formulas of C's cells, with metrics.py's numbers as cached values (see
metrics.py for the definitions and report.py for the whole workbook).
"""

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Tuple

from openpyxl.formatting.rule import ColorScaleRule

from ..metrics import Report
from .book import Sheet
from .cells import CHECK, INPUT, INTEGER, INTERMEDIATE, Block, Formula, Kind, Ref

# Kinds of cell in a report, in the trace workbooks' colours.
COUNT = Kind("count", INPUT.fill, INPUT.tint,
             "counted from the test predictions: the confusion matrix "
             "(type over a count and the metrics recompute)")
METRIC = Kind("metric", INTERMEDIATE.fill, INTERMEDIATE.tint,
              "a formula of other cells: support, precision, recall, F1, averages, totals")
RECORD = Kind("record", CHECK.fill, CHECK.tint,
              "recorded by purenet train: hyper-parameters and the per-epoch history")
REPORT_KINDS = (COUNT, METRIC, RECORD)

# Number formats: what a learner reads, not 6 significant digits of everything.
RATE = "0.0000"
PERCENT = "0.00%"
WHOLE = "0"
THOUSANDS = "#,##0"
SECONDS = "0.0"

# The confusion matrix's heatmap: the diagonal (right) in green, the rest (wrong) in red,
# each from white at 0 to full colour at its largest count.
RIGHT_COLOUR, WRONG_COLOUR = "63BE7B", "F8696B"


# --- small pieces of layout -----------------------------------------------------------

def set_format(sheet: Sheet, ref: Ref, number_format: str) -> None:
    sheet.ws.cell(row=ref.row, column=ref.col).number_format = number_format


def format_column(sheet: Sheet, block: Block, j: int, number_format: str) -> None:
    for i in range(block.rows):
        set_format(sheet, block.ref(i, j), number_format)


def planned_block(sheet: Sheet, name: str, origin: Tuple[int, int],
                  row_labels: Sequence[str], col_labels: Sequence[str]) -> Block:
    """Where sheet.block(..., origin=origin) will put its entries.

    A block whose entries refer to each other (F1 to precision and recall
    in the same row) needs its own cells' addresses before it is written;
    block_as_planned writes it and checks that it landed there.
    """
    top, label_col = origin
    return Block(name, sheet.title, top + 2, label_col + 1, tuple(row_labels), tuple(col_labels),
                 name.replace(" ", "_"))


def block_as_planned(sheet: Sheet, plan: Block, title: str, note: str, kind: Kind,
                     entry: Callable[[int, int], Formula], corner: str = "") -> Block:
    written = sheet.block(plan.label, title, note, kind, plan.row_labels, plan.col_labels, entry,
                          name=plan.name, corner=corner, origin=(plan.top - 2, plan.left - 1))
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
                 "cells: click one to see how it is defined.", home="Summary")
    sheet.fit_to_page(wide=1, tall=1)
    digits = [str(k) for k in range(K)]
    confusion = sheet.block(
        "C", "confusion matrix: rows the true digit, columns the predicted digit",
        "C[i,j] = the number of test images of digit i that the network predicted as j.\n"
        "The diagonal C[k,k] counts the right answers (green); every other cell is a kind of "
        "mistake (red, darker for more).", COUNT,
        [f"true {k}" for k in digits], [f"pred {k}" for k in digits],
        lambda i, j: C[i][j], name="confusion", corner="true \\ pred", fmt=INTEGER)
    diagonal = [confusion.ref(k, k) for k in range(K)]
    off_diagonal = [confusion.ref(i, j) for i in range(K) for j in range(K) if i != j]
    for cells, colour in ((diagonal, RIGHT_COLOUR), (off_diagonal, WRONG_COLOUR)):
        sheet.ws.conditional_formatting.add(" ".join(c.a1 for c in cells), ColorScaleRule(
            start_type="num", start_value=0, start_color="FFFFFF",
            end_type="max", end_color=colour))

    columns = ["support", "predicted", "precision", "recall", "F1"]
    per = planned_block(sheet, "per digit", (sheet.row, 1), [f"digit {k}" for k in digits],
                        columns)
    pc = report.per_class

    def per_digit(k: int, j: int) -> Formula:
        support, predicted = r(per.ref(k, 0)), r(per.ref(k, 1))
        precision, recall = r(per.ref(k, 2)), r(per.ref(k, 3))
        right = r(confusion.ref(k, k))
        return [
            Formula(f"=SUM({r(confusion.row_area(k))})", pc[k].support),
            Formula(f"=SUM({r(confusion.column_area(k))})", sum(C[i][k] for i in range(K))),
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
                Formula(f"={r(acc.ref(0, 0))}/{r(acc.ref(0, 1))}", report.accuracy)][j]

    block_as_planned(
        sheet, acc, "the share of test images predicted right",
        "accuracy = (C[0,0] + ... + C[9,9]) / N, the diagonal over the total.\n"
        "It equals the weighted average of recall.", METRIC, totals)
    format_column(sheet, acc, 0, THOUSANDS)
    format_column(sheet, acc, 1, THOUSANDS)
    format_column(sheet, acc, 2, PERCENT)

    averages = {"macro": report.macro, "weighted": report.weighted}

    def average(i: int, j: int) -> Formula:
        column = per.column_area(2 + j)
        figure = list(averages.values())[i]
        value = (figure.precision, figure.recall, figure.f1)[j]
        if i == 0:
            return Formula(f"=SUM({r(column)})/{K}", value)
        support = per.column_area(0)
        return Formula(f"=SUMPRODUCT({r(support)},{r(column)})/SUM({r(support)})", value)

    below = sheet.row
    avg = sheet.block(
        "averages", "macro and weighted averages over the 10 digits",
        "macro average = (m_0 + ... + m_9) / 10: every digit counts the same.\n"
        "weighted average = sum_k support_k m_k / N: every test image counts the same.\n"
        "m is precision, recall or F1.", METRIC,
        list(averages), ["precision", "recall", "F1"], average, name="averages",
        origin=(below, per.left + 1))     # under precision, recall, F1
    for j in range(3):
        format_column(sheet, avg, j, RATE)
    for col in range(confusion.left, confusion.left + K):
        sheet.set_width(col, 10)
    return MetricsRefs(accuracy=acc.ref(0, 2), macro_f1=avg.ref(0, 2))


