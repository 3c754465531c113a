"""metrics.py against a small example worked by hand.

The example: K = 3 classes, N = 8 examples, class 2 is never predicted.

    y_true = 0 0 0 1 1 2 2 2
    y_pred = 0 0 1 1 0 1 1 0

Counting pairs (true i, predicted j):

                 predicted 0  1  2    support (row sum)
    true 0                 2  1  0    3
    true 1                 1  1  0    2
    true 2                 1  2  0    3
    predicted (column sum) 4  4  0    N = 8

    precision_0 = 2/4 = 1/2        recall_0 = 2/3     F1_0 = 2(1/2)(2/3) / (1/2 + 2/3) = (2/3)/(7/6) = 4/7
    precision_1 = 1/4              recall_1 = 1/2     F1_1 = 2(1/4)(1/2) / (1/4 + 1/2) = (1/4)/(3/4) = 1/3
    precision_2 = 0 (never predicted, defined as 0)
                                   recall_2 = 0/3 = 0 F1_2 = 0 (P + R = 0, defined as 0)
    accuracy    = (2 + 1 + 0) / 8 = 3/8

    macro:    P = (1/2 + 1/4 + 0) / 3 = 1/4
              R = (2/3 + 1/2 + 0) / 3 = (7/6) / 3 = 7/18
              F1 = (4/7 + 1/3 + 0) / 3 = (19/21) / 3 = 19/63
    weighted: P = (3(1/2) + 2(1/4) + 3(0)) / 8 = 2/8 = 1/4
              R = (3(2/3) + 2(1/2) + 3(0)) / 8 = 3/8      (= accuracy, as it must)
              F1 = (3(4/7) + 2(1/3) + 0) / 8 = (36/21 + 14/21) / 8 = 50/168 = 25/84
"""

import json

import pytest

from purenet.metrics import (ClassMetrics, accuracy, classification_report, confusion_matrix,
                             f1_score, format_confusion, format_report, most_confident_errors)

Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 0, 1, 1, 0]


@pytest.fixture
def report():
    return classification_report(Y_TRUE, Y_PRED, 3)


def test_confusion_matrix_counts_rows_true_columns_predicted():
    assert confusion_matrix(Y_TRUE, Y_PRED, 3) == [[2, 1, 0],
                                                   [1, 1, 0],
                                                   [1, 2, 0]]


def test_confusion_matrix_is_not_symmetric_in_its_arguments():
    # Swapping true and predicted transposes C.
    assert confusion_matrix(Y_PRED, Y_TRUE, 3) == [[2, 1, 1],
                                                   [1, 1, 2],
                                                   [0, 0, 0]]


def test_per_class_figures(report):
    expected = [ClassMetrics(label=0, precision=1 / 2, recall=2 / 3, f1=4 / 7, support=3),
                ClassMetrics(label=1, precision=1 / 4, recall=1 / 2, f1=1 / 3, support=2),
                ClassMetrics(label=2, precision=0.0, recall=0.0, f1=0.0, support=3)]
    for got, want in zip(report.per_class, expected):
        assert got.label == want.label
        assert got.support == want.support
        assert got.precision == pytest.approx(want.precision, abs=1e-15)
        assert got.recall == pytest.approx(want.recall, abs=1e-15)
        assert got.f1 == pytest.approx(want.f1, abs=1e-15)
    assert len(report.per_class) == 3


def test_accuracy_and_count(report):
    assert report.accuracy == 3 / 8
    assert report.n == 8


def test_macro_average(report):
    assert report.macro.precision == pytest.approx(1 / 4, abs=1e-15)
    assert report.macro.recall == pytest.approx(7 / 18, abs=1e-15)
    assert report.macro.f1 == pytest.approx(19 / 63, abs=1e-15)


def test_weighted_average(report):
    assert report.weighted.precision == pytest.approx(1 / 4, abs=1e-15)
    assert report.weighted.recall == pytest.approx(3 / 8, abs=1e-15)
    assert report.weighted.f1 == pytest.approx(25 / 84, abs=1e-15)


def test_weighted_recall_equals_accuracy_on_uneven_data():
    y_true = [0, 0, 0, 0, 0, 1, 2, 2, 3, 3, 3]
    y_pred = [0, 1, 0, 0, 2, 1, 2, 3, 3, 0, 3]
    r = classification_report(y_true, y_pred, 4)
    assert r.accuracy == 7 / 11
    assert r.weighted.recall == pytest.approx(r.accuracy, abs=1e-15)


def test_a_class_that_never_occurs_counts_as_zero_in_the_macro_average():
    # Same data with K = 4: class 3 has support 0 and is never predicted, so
    # precision_3 = recall_3 = F1_3 = 0, and the macro sums are divided by 4:
    # P = (3/4) / 4 = 3/16, R = (7/6) / 4 = 7/24, F1 = (19/21) / 4 = 19/84.
    # The weighted averages do not change (class 3 has weight 0).
    r = classification_report(Y_TRUE, Y_PRED, 4)
    assert r.per_class[3] == ClassMetrics(label=3, precision=0.0, recall=0.0, f1=0.0, support=0)
    assert r.macro.precision == pytest.approx(3 / 16, abs=1e-15)
    assert r.macro.recall == pytest.approx(7 / 24, abs=1e-15)
    assert r.macro.f1 == pytest.approx(19 / 84, abs=1e-15)
    assert r.weighted.f1 == pytest.approx(25 / 84, abs=1e-15)


def test_perfect_predictions_score_one_everywhere():
    r = classification_report([0, 1, 2, 1], [0, 1, 2, 1], 3)
    assert r.accuracy == 1.0
    assert [(c.precision, c.recall, c.f1) for c in r.per_class] == [(1.0, 1.0, 1.0)] * 3
    assert r.confusion == [[1, 0, 0], [0, 2, 0], [0, 0, 1]]


def test_f1_is_the_harmonic_mean_and_zero_when_both_are_zero():
    assert f1_score(1.0, 0.25) == 0.4  # 2(1)(1/4) / (5/4) = 2/5
    assert f1_score(0.0, 0.0) == 0.0


@pytest.mark.parametrize("y_true, y_pred, message", [
    ([0, 1], [0], "2 true classes but 1 predictions"),
    ([0, 3], [0, 1], "class pair (3, 1) is outside 0..2"),
    ([0, -1], [0, 1], "class pair (-1, 1) is outside 0..2"),
    ([0, 1], [0, 3], "class pair (1, 3) is outside 0..2"),
])
def test_bad_input_is_refused(y_true, y_pred, message):
    with pytest.raises(ValueError) as caught:
        confusion_matrix(y_true, y_pred, 3)
    assert str(caught.value) == message


def test_no_examples_is_refused():
    with pytest.raises(ValueError) as caught:
        classification_report([], [], 3)
    assert str(caught.value) == "cannot report on no examples"
    with pytest.raises(ValueError) as caught:
        accuracy([[0, 0], [0, 0]])
    assert str(caught.value) == "accuracy of no examples is undefined"


def test_one_example_is_a_report():
    assert classification_report([2], [2], 3).accuracy == 1.0
    assert accuracy([[0, 1], [0, 0]]) == 0.0


def test_to_dict_is_json_and_holds_every_figure(report):
    d = json.loads(json.dumps(report.to_dict()))
    assert d["n"] == 8
    assert d["accuracy"] == 0.375
    assert d["confusion_matrix"] == [[2, 1, 0], [1, 1, 0], [1, 2, 0]]
    assert d["per_class"][1] == {"label": 1, "precision": 0.25, "recall": 0.5,
                                 "f1": report.per_class[1].f1, "support": 2}
    assert d["macro_avg"]["recall"] == report.macro.recall
    assert d["weighted_avg"]["precision"] == report.weighted.precision


def test_format_report_is_an_aligned_table_then_the_confusion_matrix(report):
    text = format_report(report)
    confusion = format_confusion(report.confusion)
    assert text.endswith("\n\n" + confusion)
    lines = text.splitlines()
    assert lines[0].split() == ["class", "precision", "recall", "f1", "support"]
    assert lines[1].split() == ["0", "0.5000", "0.6667", "0.5714", "3"]
    assert lines[3].split() == ["2", "0.0000", "0.0000", "0.0000", "3"]
    assert lines[4] == ""                              # a blank line before the summary rows
    assert lines[5].split() == ["accuracy", "0.3750", "8"]
    assert lines[6].split() == ["macro", "avg", "0.2500", "0.3889", "0.3016", "8"]
    assert lines[7].split() == ["weighted", "avg", "0.2500", "0.3750", "0.2976", "8"]
    # Aligned: every figure ends in the same column as its heading.
    for line in lines[1:4] + lines[6:8]:
        assert len(line) == len(lines[0])


def test_format_confusion_right_aligns_counts_of_any_width():
    text = format_confusion([[1000, 2], [3, 4]])
    assert text.splitlines()[0] == "confusion matrix (rows: true class, columns: predicted class)"
    assert text.splitlines()[1:] == ["true\\pred    0    1",
                                     "0         1000    2",
                                     "1            3    4"]


# --- the most confident mistakes --------------------------------------------------------------

def test_the_most_confident_errors_are_the_wrong_answers_surest_first():
    # Examples 1 and 4 are right (never listed, however sure); the wrong ones come by
    # their confidence, largest first, and n cuts the list.
    y_true = [0, 1, 2, 3, 4, 5]
    y_pred = [1, 1, 0, 0, 4, 0]
    confidence = [0.6, 0.99, 0.7, 0.9, 0.999, 0.35]
    assert most_confident_errors(y_true, y_pred, confidence, 10) == [3, 2, 0, 5]
    assert most_confident_errors(y_true, y_pred, confidence, 2) == [3, 2]
    assert most_confident_errors(y_true, y_pred, confidence, 0) == []


def test_equally_confident_errors_keep_the_order_of_the_examples():
    assert most_confident_errors([0, 0, 0, 0], [1, 1, 1, 0], [0.8, 0.9, 0.8, 0.95], 3) == [1, 0, 2]

