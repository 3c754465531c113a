"""The tiny examples run on a bare Python and print what their docstrings promise.

Each one runs in a subprocess as ``python -S -E tiny_examples/NAME.py``:
-S skips site-packages (so no installed package can be used, purenet
included) and -E ignores PYTHONPATH, so the example must find purenet
through its own sys.path line.  It runs from a temporary directory, so
it cannot depend on the current directory either.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "tiny_examples"


def run_example(name: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-S", "-E", str(EXAMPLES / name)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def number_after(label: str, text: str) -> float:
    match = re.search(re.escape(label) + r"\s*(-?[0-9.]+(?:e[-+][0-9]+)?)", text)
    assert match, f"{label!r} not in the output"
    return float(match.group(1))


def check_forward_by_hand(out: str) -> None:
    # The hand-worked numbers of tiny_net.py's docstring.
    assert "z1[1] = (-1)(1) + (0.25)(2) + (0.25) = -0.25" in out
    assert "h[1] = max(0, -0.25) = 0  <- negative, so this unit is off" in out
    assert "z2[0] = (1)(1) + (0.5)(0) + (-1)(0.75) + (0) = 0.25" in out
    assert "L = -ln p[0] = -ln 0.531209 = 0.632599" in out


def check_short_form(out: str) -> None:
    assert "dz2 = [  -0.4688    0.4688 ]" in out
    assert "dz1      = [  -0.7032    0.0000    0.7032 ]" in out
    assert number_after("loss after", out) < number_after("loss before", out)


def check_long_form(out: str) -> None:
    for name, shape in [("dL/dp", "1 x 2"), ("dp/dz2", "2 x 2"), ("dz2/dW2", "2 x 6"),
                        ("dz2/db2", "2 x 2"), ("dz2/dh", "2 x 3"), ("dh/dz1", "3 x 3"),
                        ("dz1/dW1", "3 x 6"), ("dz1/db1", "3 x 3"), ("dL/dW1", "1 x 6")]:
        assert f"{name}  ({shape})" in out
    assert number_after("from the short form (example 02):", out) < 1e-12


def check_gradcheck(out: str) -> None:
    assert number_after("short vs numeric:", out) < 1e-6
    assert "all three agree: True" in out


def check_learn_xor(out: str) -> None:
    first = number_after("first loss", out)
    final = number_after("final loss", out)
    assert final < first / 10
    assert "4 of 4 correct" in out


def check_deeper(out: str) -> None:
    # Three hidden layers; every product's shape fits; backprop agrees with central differences.
    assert "Network 5-7-6-4-3: 3 hidden layers, 133 weights and biases" in out
    assert "dW1 = dZ1^T A0                (7 x 2)(2 x 5) = 7 x 5    W1 is 7 x 5" in out
    assert "nudges that switched a ReLU on or off: 0" in out
    assert number_after("largest relative error", out) < 1e-6
    assert "PASS (tolerance 1e-06)" in out
    assert number_after("against network.backward\n(one example at a time, then the mean): "
                        "relative difference", out) < 1e-12


def check_cross_entropy(out: str) -> None:
    # At t = 10 the network gives the true class p = 4.54e-05: cross-entropy still pushes
    # with -0.999955, the squared error with -9.08e-05.
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["10"])
    assert row[1:6] == ["4.54e-05", "10.000045", "-0.999955", "0.999909", "-9.08e-05"]
    assert number_after("Largest difference from a central difference (eps 1e-05):", out) < 1e-8


def check_symmetry(out: str) -> None:
    zero, equal, random_ = out.split("\n\n")[1:4]
    assert "W1 still all 0: True;  b1 still all 0: True;  W2 still all 0: True" in zero
    assert "p = [0.600000, 0.400000], the same for all 5 inputs: True" in zero
    assert "loss 0.673012, 3 of 5 correct" in zero
    assert "(the entropy of (3/5, 2/5) is 0.673012" in zero
    assert ("the 8 rows of W1 still equal: True;  b1 still all one value: True;  "
            "the 8 columns of W2 still equal: True") in equal
    assert "rows of W1 all equal: False" in random_
    assert "5 of 5 correct" in random_


CHECKS = {
    "01_forward_by_hand.py": check_forward_by_hand,
    "02_short_form.py": check_short_form,
    "03_long_form.py": check_long_form,
    "04_gradcheck.py": check_gradcheck,
    "05_learn_xor.py": check_learn_xor,
    "06_deeper.py": check_deeper,
    "07_cross_entropy.py": check_cross_entropy,
    "08_symmetry.py": check_symmetry,
}


def test_every_numbered_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_runs_on_a_bare_python_and_prints_its_facts(name, tmp_path):
    CHECKS[name](run_example(name, tmp_path))
