"""--workers defaults to every core this process may use (speed.usable_cores).

Any number of workers gives the same weights, bit for bit
(tests/test_parallel.py, tests/test_determinism.py), so the default can
simply be the fastest: one process per core the process is allowed to
run on, which is its CPU affinity where the system has one (taskset,
container cpusets), not the cores the machine has.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from purenet import speed

REPO = Path(__file__).resolve().parents[1]


def help_default(preexec_fn=None) -> int:
    """The default of --workers as `purenet train --help` states it."""
    done = subprocess.run([sys.executable, "-m", "purenet", "train", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, preexec_fn=preexec_fn)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    match = re.search(r"--workers WORKERS processes that share each mini-batch \(default (\d+): "
                      r"every core this process may use\)", text)
    assert match, text
    return int(match.group(1))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                    reason="needs os.sched_getaffinity (CPython on Linux; PyPy 3.9 has none)")
def test_usable_cores_is_the_affinity_of_this_process():
    assert speed.usable_cores() == len(os.sched_getaffinity(0))


def test_without_an_affinity_usable_cores_is_the_cpu_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert speed.usable_cores() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: None)      # "cannot tell"
    assert speed.usable_cores() == 1


def test_the_help_states_the_default():
    assert help_default() == speed.usable_cores()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"),
                    reason="needs os.sched_setaffinity (CPython on Linux; PyPy 3.9 has none)")
def test_a_process_allowed_one_core_defaults_to_one_worker():
    first = min(os.sched_getaffinity(0))
    assert help_default(preexec_fn=lambda: os.sched_setaffinity(0, {first})) == 1
