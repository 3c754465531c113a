"""The progress line: its text, durations, and how it behaves on a terminal vs a log.

On a terminal the line is rewritten in place with a carriage return; on
anything else (a file, a pipe, CI) each update is a plain line of its own,
since a stream of ``\\r`` would end up as one endless line in a log.
"""

import io

import pytest

from purenet import progress
from purenet.progress import ProgressLine, format_duration
from purenet.train import BatchProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """Stands in for the time module, so that "a few seconds later" is exact."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    # 5 s after the clock's zero: a fresh line must still show its first update
    # (time.monotonic() may start near 0, e.g. just after a machine boots).
    fake = Clock(5.0)
    monkeypatch.setattr(progress, "time", fake)
    return fake


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"),
    (7, "7s"),
    (59.4, "59s"),
    (59.6, "1m00s"),
    (65, "1m05s"),
    (600, "10m00s"),
    (3600, "1h00m00s"),
    (3725, "1h02m05s"),
    (90061, "25h01m01s"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_the_line_shows_epoch_samples_loss_rate_and_eta():
    # 12,800 samples in 32 s is 400 samples/s; 42,000 left take 105 s.
    p = BatchProgress(epoch=3, done=12800, total=54800, running_loss=0.12344, elapsed=32.0)
    assert ProgressLine(10, stream=io.StringIO()).text(p) == (
        "epoch 3/10  12,800/54,800  loss 0.1234  400 samples/s  ETA 1m45s")


def test_before_any_time_has_passed_rate_and_eta_are_zero_not_an_error():
    p = BatchProgress(epoch=1, done=0, total=100, running_loss=2.3, elapsed=0.0)
    assert ProgressLine(1, stream=io.StringIO()).text(p) == (
        "epoch 1/1  0/100  loss 2.3000  0 samples/s  ETA 0s")


def test_on_a_log_each_update_is_a_plain_line_at_most_every_log_every_seconds(clock):
    log = io.StringIO()
    line = ProgressLine(2, stream=log, log_every=15.0)
    line.update(BatchProgress(1, 100, 1000, 2.0, 1.0))     # first: shown
    clock.now += 14.0
    line.update(BatchProgress(1, 200, 1000, 1.5, 2.0))     # 14 s later: not yet
    clock.now += 1.0
    line.update(BatchProgress(1, 300, 1000, 1.0, 3.0))     # 15 s after the first: shown
    clock.now += 0.1
    line.update(BatchProgress(1, 1000, 1000, 0.5, 10.0))   # the epoch's end: always shown
    line.clear()
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == [
        "epoch 1/2  100/1,000  loss 2.0000  100 samples/s  ETA 9s",
        "epoch 1/2  300/1,000  loss 1.0000  100 samples/s  ETA 7s",
        "epoch 1/2  1,000/1,000  loss 0.5000  100 samples/s  ETA 0s",
    ]
    assert log.getvalue().endswith("\n")


def test_on_a_terminal_the_line_is_rewritten_in_place(clock):
    tty = FakeTerminal()
    line = ProgressLine(1, stream=tty, refresh=0.25)
    line.update(BatchProgress(1, 10000, 20000, 2.0, 10.0))
    first = "epoch 1/1  10,000/20,000  loss 2.0000  1,000 samples/s  ETA 10s"
    assert tty.getvalue() == "\r" + first
    clock.now += 0.1
    line.update(BatchProgress(1, 10100, 20000, 2.0, 10.1))  # within 0.25 s: skipped
    assert tty.getvalue() == "\r" + first
    clock.now += 0.2
    line.update(BatchProgress(1, 20000, 20000, 1.0, 10.0))
    second = "epoch 1/1  20,000/20,000  loss 1.0000  2,000 samples/s  ETA 0s"
    # padded with spaces to the previous line's width, so no old characters stay visible
    assert len(second) < len(first)
    assert tty.getvalue() == "\r" + first + "\r" + second.ljust(len(first))
    assert "\n" not in tty.getvalue()


def test_clear_wipes_the_terminal_line_so_the_next_print_starts_clean(clock):
    tty = FakeTerminal()
    line = ProgressLine(1, stream=tty)
    line.update(BatchProgress(1, 5, 10, 2.0, 1.0))
    shown = tty.getvalue()
    line.clear()
    assert tty.getvalue() == shown + "\r" + " " * (len(shown) - 1) + "\r"
    line.clear()  # nothing left to wipe: writes nothing
    assert tty.getvalue() == shown + "\r" + " " * (len(shown) - 1) + "\r"


def test_clear_writes_nothing_on_a_log(clock):
    log = io.StringIO()
    line = ProgressLine(1, stream=log)
    line.update(BatchProgress(1, 5, 10, 2.0, 1.0))
    before = log.getvalue()
    line.clear()
    assert log.getvalue() == before
