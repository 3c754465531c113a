"""What crosses the pipes between the main process and its workers (parallel.py).

Numbers cross as float64 bytes (``array('d')``), never as pickled lists:
bytes read back are the same floats, bit for bit, and cost a copy instead
of a Python object per number.  Each message is a kind, a few small
arguments, and for some kinds one block of those bytes:

    main -> worker    Message("step", (batch, lr, mu))   stage 1 of these examples
                      Message("dz1", blob=...)           every example's dz1: do stage 2
                      Message("skip")                    the loss was not finite: no update
                      Message("update", blob=...)        the rest of the gradient: update
                      Message("stop")                    end
    worker -> main    Message("ok", blob=...)            its stage 1 (a Backprop) or stage 2
                                                         (its dW1 columns)
                      Message("error", (line,))          it failed, in one line

``Channel`` is one end of a pipe; both sides send and receive through it.
"""

import struct
from array import array
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

from ..matrix import Vector
from .stages import Backprop, BatchGrads

# A count of pixels and their column length (int64), before the pixel indices (int32).
COLUMNS_HEADER = struct.Struct("=2q")
# count, correct, n_hidden, n_out (int64) and loss_sum (float64)
HEADER = struct.Struct("=4qd")

CARRY_BYTES = frozenset({"dz1", "update", "ok"})


@dataclass
class Message:
    kind: str
    args: Tuple[Any, ...] = ()
    blob: bytes = b""


class Channel:
    """One end of a pipe (a multiprocessing Connection) that carries Messages."""

    def __init__(self, conn):
        self.conn = conn

    def send(self, message: Message) -> None:
        self.conn.send((message.kind, message.args))
        if message.kind in CARRY_BYTES:
            self.conn.send_bytes(message.blob)

    def receive(self) -> Message:
        kind, args = self.conn.recv()
        return Message(kind, args, self.conn.recv_bytes() if kind in CARRY_BYTES else b"")

    def close(self) -> None:
        self.conn.close()


# --- numbers as bytes -------------------------------------------------------------

def pack_rows(rows: Sequence[Sequence[float]]) -> bytes:
    """Rows of floats, one after another, as float64 bytes."""
    values = array("d")
    for row in rows:
        values.fromlist(list(row))
    return values.tobytes()


def unpack_rows(data, width: int) -> List[Vector]:
    """The inverse of pack_rows for rows of `width` numbers; the same floats, bit for bit."""
    numbers = array("d")
    numbers.frombytes(data)
    # a list per row straight from the array: one copy, not a whole list then slices of it
    return [numbers[k:k + width].tolist() for k in range(0, len(numbers), width)] if width else []


def pack_columns(columns: Dict[int, Vector], n_hidden: int) -> bytes:
    """dW1 columns: COLUMNS_HEADER, the pixels j (int32), then each column (float64)."""
    pixels = list(columns)
    return b"".join((COLUMNS_HEADER.pack(len(pixels), n_hidden), array("i", pixels).tobytes(),
                     pack_rows([columns[j] for j in pixels])))


def unpack_columns(data) -> Tuple[Dict[int, Vector], int]:
    """The inverse of pack_columns, and how many bytes it read."""
    view = memoryview(data)
    n_pixels, n_hidden = COLUMNS_HEADER.unpack_from(view)
    pixels = array("i")
    at = COLUMNS_HEADER.size + n_pixels * pixels.itemsize
    pixels.frombytes(view[COLUMNS_HEADER.size:at])
    end = at + n_pixels * n_hidden * 8
    return dict(zip(pixels.tolist(), unpack_rows(view[at:end], n_hidden))), end


def pack_backprop(bp: Backprop, n_hidden: int, n_out: int) -> bytes:
    """HEADER (loss_sum unused: 0), then the losses L and the rows of H, dZ2 and dZ1 (float64)."""
    header = HEADER.pack(len(bp.H), bp.correct, n_hidden, n_out, 0.0)
    return b"".join((header, pack_rows([bp.L]), pack_rows(bp.H), pack_rows(bp.dZ2),
                     pack_rows(bp.dZ1)))


def unpack_backprop(blob: bytes) -> Backprop:
    """The inverse of pack_backprop."""
    count, correct, n_hidden, n_out, _ = HEADER.unpack_from(blob)
    view = memoryview(blob)[HEADER.size:]
    a = count * 8
    b = a + count * n_hidden * 8
    c = b + count * n_out * 8
    L = unpack_rows(view[:a], count)
    return Backprop(H=unpack_rows(view[a:b], n_hidden), dZ2=unpack_rows(view[b:c], n_out),
                    dZ1=unpack_rows(view[c:], n_hidden), L=L[0] if L else [], correct=correct)


def pack_grads(g: BatchGrads) -> bytes:
    """HEADER, the dW1 columns (pack_columns), then db1, dW2 rows, db2 (float64)."""
    header = HEADER.pack(g.count, g.correct, len(g.db1), len(g.db2), g.loss_sum)
    return b"".join((header, pack_columns(g.dW1T, len(g.db1)), pack_rows([g.db1]),
                     pack_rows(g.dW2), pack_rows([g.db2])))


def unpack_grads(blob: bytes) -> BatchGrads:
    """The inverse of pack_grads; float64 bytes read back are the same floats, bit for bit."""
    count, correct, n_hidden, n_out, loss_sum = HEADER.unpack_from(blob)
    view = memoryview(blob)[HEADER.size:]
    dW1T, at = unpack_columns(view)
    rest = unpack_rows(view[at:at + (n_hidden + n_out * n_hidden) * 8], n_hidden)
    db2 = unpack_rows(view[at + (n_hidden + n_out * n_hidden) * 8:], n_out)
    return BatchGrads(dW1T=dW1T, db1=rest[0], dW2=rest[1:], db2=db2[0] if db2 else [],
                      loss_sum=loss_sum, correct=correct, count=count)
