"""Stopping a run: Ctrl-C, SIGTERM and SIGHUP end it the same way, once.

    signal    what sends it                      exit code (128 + its number, as a shell reports it)
    SIGINT    Ctrl-C                             130
    SIGTERM   kill PID, a service manager        143
    SIGHUP    the terminal was closed            129

``stop_signals_interrupt`` makes the first of them raise ``Interrupted``
(a KeyboardInterrupt, so the code that saves and reports an interrupted
run handles all three alike) and ignores the ones after it: a second
Ctrl-C while the run shuts its workers down must not break off the
shutdown half way.  ``stop_signals_wait`` holds a signal back until a
block (saving a checkpoint and saying so) is done, then delivers it.
"""

import contextlib
import signal
from typing import Callable, Dict, Iterator, List

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; exit_code is 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _install(handler: Callable) -> Dict[int, object]:
    """Set handler for every stop signal; returns the handlers it replaced."""
    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


def _ignore_from_now_on(signum: int, frame) -> None:
    _install(signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Inside the block, the first stop signal raises Interrupted and later ones are ignored.

    After a stop signal they stay ignored when the block ends: the process is
    ending, and a second Ctrl-C during Python's shutdown would print
    "Exception ignored in ..." and a traceback.  Without one, the handlers
    are put back as they were.
    """
    previous = _install(_ignore_from_now_on)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if signal.getsignal(signum) is _ignore_from_now_on:   # no stop signal came
                signal.signal(signum, handler)


@contextlib.contextmanager
def stop_signals_wait() -> Iterator[None]:
    """Hold stop signals back until the block ends, then deliver the first one.

    Around saving a checkpoint: the file itself is replaced atomically, but
    the run must also record which epoch is now on disk and print the
    epoch's line, and an interruption in between would name the wrong
    checkpoint or leave a saved epoch unreported.
    """
    held: List[int] = []
    try:
        previous = _install(lambda signum, frame: held.append(signum))
    except ValueError:  # not the main thread, which is the only one that gets signals
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])  # to the handler outside, as if just sent
