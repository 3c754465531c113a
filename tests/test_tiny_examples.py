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


CHECKS = {
    "01_forward_by_hand.py": check_forward_by_hand,
    "02_short_form.py": check_short_form,
    "03_long_form.py": check_long_form,
    "04_gradcheck.py": check_gradcheck,
    "05_learn_xor.py": check_learn_xor,
}


def test_every_numbered_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_runs_on_a_bare_python_and_prints_its_facts(name, tmp_path):
    CHECKS[name](run_example(name, tmp_path))
