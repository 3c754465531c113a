"""JSON as purenet writes and reads it: one row of numbers to a line, every number a float.

Writing (``to_json_text``): a list or object that holds no list or object
is written on one line, anything else one entry per line, so
``head model.json`` shows the hyper-parameters and history, and each row
of W1 is one line.  Numbers are Python's ``repr`` of each float (the
shortest decimal that reads back as the same float), so writing and
reading give back exactly the same bits; NaN and infinity are refused
(ValueError), since they are not JSON.

Reading: JSON itself sets no limit on a number.  ``1e400`` reads as
infinity, and a whole number of 400 digits reads as a Python int that
``float()`` refuses (OverflowError), or, past 4,300 digits, is refused by
the parser itself on Python 3.11+ (ValueError).  So whole numbers are read
from their text (``json.loads(parse_int=whole_number)``), one of more than
``MAX_INT_DIGITS`` digits kept as ``TooManyDigits``, and ``unfit_number``
then finds the first number anywhere in a document that is not finite or
not at most ``sys.float_info.max``, and says where it is.
"""

import json
import math
import sys
from dataclasses import dataclass
from typing import Any, Optional

MAX_INT_DIGITS = len(str(int(sys.float_info.max)))     # 309


def to_json_text(obj: Any, indent: int = 0) -> str:
    """obj as JSON text in the layout described above.

    Raises ValueError for NaN or infinity and TypeError for anything JSON
    cannot hold (including a non-string object key, which JSON would
    silently turn into a string and so not read back the same).
    """
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, str):
                raise TypeError(f"object key {key!r} is not a string")
    if not _holds_containers(obj):
        return json.dumps(obj, allow_nan=False)
    inner = " " * (indent + 2)
    if isinstance(obj, dict):
        lines = [f"{inner}{json.dumps(key)}: {to_json_text(value, indent + 2)}"
                 for key, value in obj.items()]
        opening, closing = "{", "}"
    else:
        lines = [inner + to_json_text(value, indent + 2) for value in obj]
        opening, closing = "[", "]"
    return opening + "\n" + ",\n".join(lines) + "\n" + " " * indent + closing


def _holds_containers(obj: Any) -> bool:
    """True for a list or object with a list or object among its entries."""
    if isinstance(obj, dict):
        values = obj.values()
    elif isinstance(obj, (list, tuple)):
        values = obj
    else:
        return False
    return any(isinstance(v, (dict, list, tuple)) for v in values)


@dataclass(frozen=True)
class TooManyDigits:
    """What the JSON text held in place of a whole number of more than MAX_INT_DIGITS digits."""
    digits: int


def whole_number(text: str) -> Any:
    """A JSON whole number, given as its digits: an int, or TooManyDigits for unfit_number.

    json calls this before int() sees the text, so a number of 5,000
    digits never meets int()'s limit (4,300 digits on Python 3.11+,
    ValueError) and is reported, with its place, like one of 400.
    """
    digits = len(text.lstrip("-"))
    return TooManyDigits(digits) if digits > MAX_INT_DIGITS else int(text)


def unfit_number(document: Any) -> Optional[str]:
    """Where the first number in the document that a float cannot hold is, and what it is; or None.

    That is an infinity (JSON's 1e400 reads as one) or a whole number
    above sys.float_info.max.  Lists of floats, which is what almost all
    of a model is, are checked in bulk.
    """
    def check(value: Any, where: str) -> Optional[str]:
        if isinstance(value, dict):
            for key, entry in value.items():
                found = check(entry, f"{where}.{key}" if where else key)
                if found:
                    return found
        elif isinstance(value, list):
            if set(map(type, value)) <= {float} and all(map(math.isfinite, value)):
                return None
            for i, entry in enumerate(value):
                found = check(entry, f"{where}[{i}]")
                if found:
                    return found
        elif isinstance(value, float) and not math.isfinite(value):
            return f"{where} is {value!r}; every number in a model file must be finite"
        elif isinstance(value, TooManyDigits):
            return f"{where} is a whole number of {value.digits:,} digits, too large for a float"
        elif isinstance(value, int) and not isinstance(value, bool) and not fits_a_float(value):
            return (f"{where} is a whole number of {len(str(abs(value)))} digits, "
                    "too large for a float")
        return None

    return check(document, "")


def fits_a_float(n: int) -> bool:
    """True if float(n) is a finite number (|n| at most sys.float_info.max)."""
    try:
        float(n)
    except OverflowError:
        return False
    return True
