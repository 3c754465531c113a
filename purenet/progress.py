"""A progress line a person can watch while an epoch runs.

On a terminal, one line on stderr is rewritten in place (carriage return)
at most a few times a second:

    epoch 3/10  12,800/55,000  loss 0.1234  410 samples/s  ETA 1m43s

When stderr is not a terminal (a log file, CI), ``\\r`` would pile up
into one endless line, so the same text is printed as plain lines, one
every ``log_every`` seconds.
"""

import sys
import time
from typing import Any, Dict, Optional, TextIO


def format_duration(seconds: float) -> str:
    """3725 -> '1h02m05s', 65 -> '1m05s', 7 -> '7s'."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def epoch_line(entry: Dict[str, Any], epochs: int) -> str:
    """The line printed when an epoch ends, from its history entry (train.fit)."""
    return (f"epoch {entry['epoch']:>2}/{epochs}  lr {entry['lr']:.4f}  "
            f"train loss {entry['train_loss']:.4f}  train acc {entry['train_accuracy']:.4f}  "
            f"val acc {entry['val_accuracy']:.4f}  {format_duration(entry['seconds'])}")


class ProgressLine:
    """Shows BatchProgress updates on one line (terminal) or as periodic lines (log)."""

    def __init__(self, epochs: int, stream: Optional[TextIO] = None,
                 refresh: float = 0.25, log_every: float = 15.0):
        self.epochs = epochs
        self.stream = stream or sys.stderr
        self.is_tty = self.stream.isatty()
        self.interval = refresh if self.is_tty else log_every
        self.last_shown = float("-inf")  # so the first update always shows
        self.width = 0

    def text(self, p) -> str:
        rate = p.done / p.elapsed if p.elapsed > 0 else 0.0
        eta = (p.total - p.done) / rate if rate > 0 else 0.0
        return (f"epoch {p.epoch}/{self.epochs}  {p.done:,}/{p.total:,}  loss {p.running_loss:.4f}  "
                f"{rate:,.0f} samples/s  ETA {format_duration(eta)}")

    def update(self, p) -> None:
        now = time.monotonic()
        if now - self.last_shown < self.interval and p.done < p.total:
            return
        self.last_shown = now
        line = self.text(p)
        if self.is_tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe the in-place line so that the next print starts on a clean line."""
        if self.is_tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
