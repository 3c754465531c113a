"""--kernel: every command that runs the network runs it by the kernel named, and only that one.

Each kernel of speed.KERNELS is replaced by a spy that records which of
its functions were called and then does the real work, and each command
runs in this process (--workers 1) with --kernel naming one of them: the
other kernel must never be called.  Training, validation and the test
evaluation of ``train``; ``evaluate``, ``show``, ``report`` (on a model
without stored predictions, so it classifies) and ``predict``.
"""

import json
from pathlib import Path
from types import ModuleType
from typing import Dict, List

import pytest

from purenet import cli, speed

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = ("logits", "examples_backprop", "pixel_columns", "batch_gradients_from",
             "momentum_step_")
OTHER = {"loops": "sumprod", "sumprod": "loops"}


def spy_of(kernel: ModuleType, calls: List[str]) -> ModuleType:
    """A module with the kernel's five functions, each recording its name in calls first."""
    spy = ModuleType(kernel.__name__)

    def recording(name: str):
        real = getattr(kernel, name)

        def call(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        return call

    for name in FUNCTIONS:
        setattr(spy, name, recording(name))
    return spy


@pytest.fixture
def calls(monkeypatch) -> Dict[str, List[str]]:
    """kernel name -> the functions of that kernel called so far."""
    made: Dict[str, List[str]] = {name: [] for name in speed.KERNELS}
    for name, kernel in list(speed.KERNELS.items()):
        monkeypatch.setitem(speed.KERNELS, name, spy_of(kernel, made[name]))
    return made


@pytest.fixture(scope="module")
def model(tiny_data, tmp_path_factory) -> Path:
    """A tiny model trained in this process, and a copy without its stored test predictions."""
    out = tmp_path_factory.mktemp("kernel") / "run"
    code = cli.main(["train", "--hidden", "8", "--limit", "128", "--val-size", "64",
                     "--batch-size", "64", "--epochs", "1", "--workers", "1",
                     "--data-dir", str(tiny_data), "--no-verify", "--out", str(out)])
    assert code == 0
    return out / "model.json"


def run(*argv: str) -> None:
    assert cli.main(list(argv)) == 0


@pytest.mark.parametrize("kernel", sorted(speed.KERNELS))
def test_train_validates_and_tests_with_the_kernel_it_trains_with(tiny_data, tmp_path, calls,
                                                                  kernel):
    run("train", "--hidden", "8", "--limit", "128", "--val-size", "64", "--batch-size", "64",
        "--epochs", "1", "--workers", "1", "--kernel", kernel,
        "--data-dir", str(tiny_data), "--no-verify",
        "--out", str(tmp_path / "run"))
    used = calls[kernel]
    assert used.count("examples_backprop") == 2          # 128 images, 2 batches of 64
    assert used.count("momentum_step_") == 2
    assert used.count("logits") == 64 + 100               # validation, then the test set
    assert calls[OTHER[kernel]] == []
    saved = json.loads((tmp_path / "run" / "model.json").read_text())
    assert saved["hyperparameters"]["kernel"] == kernel


@pytest.mark.parametrize("kernel", sorted(speed.KERNELS))
def test_evaluate_uses_the_kernel_named(tiny_data, model, calls, kernel, capsys):
    run("evaluate", str(model), "--data-dir", str(tiny_data), "--no-verify", "--kernel", kernel)
    assert calls[kernel] == ["logits"] * 100 and calls[OTHER[kernel]] == []


@pytest.mark.parametrize("kernel", sorted(speed.KERNELS))
def test_show_uses_the_kernel_named(tiny_data, model, calls, kernel, capsys):
    run("show", "3", "--model", str(model), "--data-dir", str(tiny_data), "--no-verify",
        "--kernel", kernel)
    assert calls[kernel] == ["logits"] and calls[OTHER[kernel]] == []
    assert "p = softmax(z2)" in capsys.readouterr().out


@pytest.mark.parametrize("kernel", sorted(speed.KERNELS))
def test_report_classifies_with_the_kernel_named(tiny_data, model, tmp_path, calls, kernel,
                                                 capsys):
    pytest.importorskip("openpyxl")
    older = tmp_path / "older.json"         # no stored predictions: the report classifies
    saved = json.loads(model.read_text())
    del saved["test_predictions"]
    older.write_text(json.dumps(saved))
    run("report", str(older), "--data-dir", str(tiny_data), "--no-verify",
        "--out", str(tmp_path / "r.xlsx"),
        "--kernel", kernel)
    assert calls[kernel] == ["logits"] * 100 and calls[OTHER[kernel]] == []


@pytest.mark.parametrize("kernel", sorted(speed.KERNELS))
def test_predict_uses_the_kernel_named(model, calls, kernel, capsys):
    run("predict", str(REPO / "docs" / "my_digit.png"), "--model", str(model), "--kernel", kernel)
    assert calls[kernel] == ["logits"] and calls[OTHER[kernel]] == []


def test_auto_is_the_kernel_for_this_python(tiny_data, model, calls, capsys):
    run("show", "3", "--model", str(model), "--data-dir", str(tiny_data), "--no-verify")
    assert calls[speed.auto_kernel()] == ["logits"]
    assert calls[OTHER[speed.auto_kernel()]] == []


@pytest.mark.parametrize("command", ["train", "evaluate", "show", "report", "predict"])
def test_an_unknown_kernel_is_a_usage_error(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--kernel", "numpy"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--kernel" in err[0] and "'numpy'" in err[0]
