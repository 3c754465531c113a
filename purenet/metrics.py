"""How good are a classifier's predictions: confusion matrix, precision, recall, F1.

The input is two lists of class numbers 0 .. K-1 for the same N examples:
the true classes y_true and the predicted classes y_pred.  Nothing here
knows what made the predictions.

    C_ij          = number of examples of true class i predicted as class j
                    (the K x K confusion matrix: rows true, columns predicted;
                    the diagonal C_kk counts the correct ones)
    support_k     = sum_j C_kj           examples whose true class is k (row sum)
    predicted_k   = sum_i C_ik           examples predicted as k (column sum)

    precision_k   = C_kk / predicted_k   of those predicted k, the share that are k
    recall_k      = C_kk / support_k     of those that are k, the share found
    F1_k          = 2 precision_k recall_k / (precision_k + recall_k)
                                         the harmonic mean of the two
    accuracy      = sum_k C_kk / N

    macro average    = (1/K) sum_k m_k                  every class counts the same
    weighted average = sum_k (support_k / N) m_k        every example counts the same

where m_k is precision_k, recall_k or F1_k.  Both averages run over all K
classes, including any that never occur.  (The weighted average of recall
equals the accuracy: sum_k (support_k / N) (C_kk / support_k) = sum_k C_kk / N.)

Empty denominators.  A class that is never predicted (predicted_k = 0) has
precision_k defined as 0, a class that never occurs (support_k = 0) has
recall_k defined as 0, and F1_k is defined as 0 when precision_k + recall_k
= 0.  So a class the classifier ignores pulls the macro average down
instead of vanishing from it.
"""

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Sequence

from .matrix import total  # float sums left to right: the same bits on every Python

ConfusionMatrix = List[List[int]]


@dataclass
class ClassMetrics:
    """precision_k, recall_k, F1_k and support_k of one class k."""
    label: int
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Averages:
    """One average (macro or weighted) of precision, recall and F1."""
    precision: float
    recall: float
    f1: float


@dataclass
class Report:
    """Everything this module computes from one set of predictions."""
    confusion: ConfusionMatrix
    per_class: List[ClassMetrics]
    accuracy: float
    macro: Averages
    weighted: Averages
    n: int

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain lists, dicts and numbers (ready for json.dumps)."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "per_class": [asdict(c) for c in self.per_class],
            "macro_avg": asdict(self.macro),
            "weighted_avg": asdict(self.weighted),
            "confusion_matrix": [list(row) for row in self.confusion],
        }


# --- the figures --------------------------------------------------------------

def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> ConfusionMatrix:
    """C with C[i][j] = number of examples of true class i predicted as j."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true classes but {len(y_pred)} predictions")
    C = [[0] * n_classes for _ in range(n_classes)]
    for i, j in zip(y_true, y_pred):
        if not (0 <= i < n_classes and 0 <= j < n_classes):
            raise ValueError(f"class pair ({i}, {j}) is outside 0..{n_classes - 1}")
        C[i][j] += 1
    return C


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, defined as 0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def f1_score(precision: float, recall: float) -> float:
    """2 P R / (P + R), defined as 0 when P + R = 0."""
    return _ratio(2.0 * precision * recall, precision + recall)


def class_metrics(C: ConfusionMatrix) -> List[ClassMetrics]:
    """precision_k, recall_k, F1_k, support_k for every class k of C."""
    K = len(C)
    per_class = []
    for k in range(K):
        support = sum(C[k])
        predicted = sum(C[i][k] for i in range(K))
        precision = _ratio(C[k][k], predicted)
        recall = _ratio(C[k][k], support)
        per_class.append(ClassMetrics(label=k, precision=precision, recall=recall,
                                      f1=f1_score(precision, recall), support=support))
    return per_class


def accuracy(C: ConfusionMatrix) -> float:
    """sum_k C_kk / N."""
    n = sum(map(sum, C))
    if n == 0:
        raise ValueError("accuracy of no examples is undefined")
    return sum(C[k][k] for k in range(len(C))) / n


def macro_average(per_class: Sequence[ClassMetrics]) -> Averages:
    """(1/K) sum_k m_k for m = precision, recall, F1."""
    K = len(per_class)
    return Averages(precision=total(c.precision for c in per_class) / K,
                    recall=total(c.recall for c in per_class) / K,
                    f1=total(c.f1 for c in per_class) / K)


def weighted_average(per_class: Sequence[ClassMetrics]) -> Averages:
    """sum_k (support_k / N) m_k for m = precision, recall, F1."""
    n = sum(c.support for c in per_class)
    return Averages(precision=total(c.support * c.precision for c in per_class) / n,
                    recall=total(c.support * c.recall for c in per_class) / n,
                    f1=total(c.support * c.f1 for c in per_class) / n)


def classification_report(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> Report:
    """All the figures above for one set of predictions (at least one example)."""
    if not y_true:
        raise ValueError("cannot report on no examples")
    C = confusion_matrix(y_true, y_pred, n_classes)
    per_class = class_metrics(C)
    return Report(confusion=C, per_class=per_class, accuracy=accuracy(C),
                  macro=macro_average(per_class), weighted=weighted_average(per_class),
                  n=len(y_true))


def most_confident_errors(y_true: Sequence[int], y_pred: Sequence[int],
                          confidence: Sequence[float], n: int) -> List[int]:
    """The n examples predicted wrong with the largest confidence, surest first.

    confidence[i] is the probability the classifier gave its prediction
    y_pred[i]; ties go to the earlier example.  Returns their positions.
    """
    wrong = [i for i, (t, p) in enumerate(zip(y_true, y_pred)) if t != p]
    wrong.sort(key=lambda i: (-confidence[i], i))
    return wrong[:n]


# --- as text ------------------------------------------------------------------

def format_report(report: Report) -> str:
    """An aligned table of the per-class figures and averages, then C."""
    return _format_table(report) + "\n\n" + format_confusion(report.confusion)


def _format_table(report: Report) -> str:
    support_width = max(len("support"), len(str(report.n)))
    row = "{:<12} {:>9} {:>9} {:>9} {:>%d}" % support_width
    lines = [row.format("class", "precision", "recall", "f1", "support")]
    for c in report.per_class:
        lines.append(row.format(c.label, f"{c.precision:.4f}", f"{c.recall:.4f}",
                                f"{c.f1:.4f}", c.support))
    lines.append("")
    lines.append(row.format("accuracy", "", "", f"{report.accuracy:.4f}", report.n))
    for name, avg in (("macro avg", report.macro), ("weighted avg", report.weighted)):
        lines.append(row.format(name, f"{avg.precision:.4f}", f"{avg.recall:.4f}",
                                f"{avg.f1:.4f}", report.n))
    return "\n".join(lines)


def format_confusion(C: ConfusionMatrix) -> str:
    """C as a grid: one row per true class, one column per predicted class."""
    K = len(C)
    width = max(len(str(K - 1)), max(len(str(c)) for row in C for c in row))
    label = "true\\pred"
    header = f"{label:<{len(label)}}" + "".join(f" {j:>{width}}" for j in range(K))
    lines = ["confusion matrix (rows: true class, columns: predicted class)", header]
    for i, row in enumerate(C):
        lines.append(f"{i:<{len(label)}}" + "".join(f" {c:>{width}}" for c in row))
    return "\n".join(lines)
