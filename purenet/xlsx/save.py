"""Saving a workbook so that the same cells give the same bytes, with cached values.

openpyxl saves a formula with an empty result (``<v />``): Excel recomputes
it on opening, but a viewer that never recalculates (a preview, Protected
View, ``openpyxl.load_workbook(data_only=True)``) shows an empty cell.  So
``reproducible_zip`` writes each formula's Python value into the sheet XML
as its cached result (a number, or text such as PASS with ``t="str"``).

The same bytes on every run and every Python (CPython 3.9-3.13, PyPy):
openpyxl stamps docProps/core.xml with "now" and the zip entries with the
time of saving, so the dates are pinned to ``FIXED_TIME``, the merged
ranges of each sheet put in sorted order (``sort_merges``), and the zip is
written again with every entry dated ``ZIP_TIME``, compressed at
``ZIP_LEVEL``, with Unix permissions.  That holds for the pinned openpyxl with its standard-library
XML writer (the package's ``__init__`` turns lxml's off).

openpyxl writes a number cell with 16 significant digits ("%.16g"), and
some doubles need 17 to be read back as themselves.  A workbook that must
hold numbers exactly (the trained weights of draw_a_digit.xlsx, which the
tests read back to rebuild the model) has those cells' values written
again as the shortest text that reads back exactly (``exact_values``).
"""

import datetime
import io
import math
import re
import zipfile
from typing import Dict, Optional, Union

FIXED_TIME = datetime.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)          # the earliest date a zip entry can carry
ZIP_LEVEL = 6                             # zlib's default level, fixed explicitly

Cached = Union[float, str]

# openpyxl's standard-library writer saves a formula cell as
#   <c r="B7" s="3"><f>SUM(B2:B6)</f><v /></c>
# (the formula text is XML-escaped, so it holds no "<").
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f>[^<]*</f>)<v />')
# and a number cell as  <c r="B7" s="3" t="n"><v>0.1</v></c>
_NUMBER_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)><v>([^<]*)</v></c>')
_MERGE_CELLS = re.compile(rb'(<mergeCells count="[0-9]+">)(.*?)(</mergeCells>)', re.S)
_CORE_DATE = re.compile(rb"(<dcterms:(created|modified) [^>]*>)[^<]*(</dcterms:\2>)")


def number_text(value: float) -> str:
    """The shortest text that reads back as exactly this double (repr)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a cached value must be finite, not {value}")
    return repr(value)


def check_cached(value: Cached) -> Cached:
    if isinstance(value, str):
        if "<" in value or "&" in value:
            raise ValueError(f"a cached text must be plain: {value!r}")
        return value
    number_text(value)
    return float(value)


def inject_cached_values(sheet_xml: bytes, values: Dict[str, Cached]) -> bytes:
    """Fill each formula cell's empty <v /> with its value; every formula must have one."""
    filled = set()

    def fill(match: "re.Match[bytes]") -> bytes:
        coordinate = match.group(1).decode("ascii")
        if coordinate not in values:
            raise ValueError(f"formula cell {coordinate} has no cached value")
        filled.add(coordinate)
        value = values[coordinate]
        attributes = match.group(2)
        if isinstance(value, str):
            attributes += b' t="str"'
            text = value.encode("utf-8")
        else:
            text = number_text(value).encode("ascii")
        return (b'<c r="' + match.group(1) + b'"' + attributes + b">" + match.group(3)
                + b"<v>" + text + b"</v>")

    out = _FORMULA_CELL.sub(fill, sheet_xml)
    missing = sorted(set(values) - filled)
    if missing:
        raise ValueError(f"cached values for cells that hold no formula: {', '.join(missing[:5])}")
    return out


def needs_17_digits(value: float) -> bool:
    """True if openpyxl's 16 significant digits do not read back as this double."""
    return float("%.16g" % value) != value


def exact_values(sheet_xml: bytes, values: Dict[str, float]) -> bytes:
    """Write each number cell of `values` as the shortest text that reads back exactly."""
    filled = set()

    def fill(match: "re.Match[bytes]") -> bytes:
        coordinate = match.group(1).decode("ascii")
        if coordinate not in values:
            return match.group(0)
        filled.add(coordinate)
        return (b'<c r="' + match.group(1) + b'"' + match.group(2) + b"><v>"
                + number_text(values[coordinate]).encode("ascii") + b"</v></c>")

    out = _NUMBER_CELL.sub(fill, sheet_xml)
    missing = sorted(set(values) - filled)
    if missing:
        raise ValueError(f"exact values for cells that hold no number: {', '.join(missing[:5])}")
    return out


def sort_merges(sheet_xml: bytes) -> bytes:
    """The sheet with its <mergeCell> elements in sorted order.

    openpyxl writes a sheet's merged ranges in the order a set iterates
    them, which is not the same on every Python (CPython's hash order;
    PyPy's sets keep insertion order), and nothing else in a purenet
    workbook depends on the Python.
    """
    return _MERGE_CELLS.sub(lambda m: m.group(1) + b"".join(sorted(
        re.findall(rb"<mergeCell [^>]*/>", m.group(2)))) + m.group(3), sheet_xml)


def pin_core_dates(core_xml: bytes) -> bytes:
    """Set dcterms:created and dcterms:modified (openpyxl writes 'now') to FIXED_TIME."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    return _CORE_DATE.sub(lambda m: m.group(1) + stamp + m.group(3), core_xml)


def reproducible_zip(xlsx: bytes, cached: Dict[str, Dict[str, Cached]],
                     exact: Optional[Dict[str, Dict[str, float]]] = None) -> bytes:
    """Rewrite an .xlsx: cached values injected, dates pinned, fixed zip metadata.

    `cached` maps a worksheet's path in the zip (xl/worksheets/sheet1.xml)
    to {cell: value} for its formula cells; `exact` the same way to the
    number cells that need 17 digits.
    """
    exact = exact or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in cached:
                data = sort_merges(inject_cached_values(data, cached[info.filename]))
            if exact.get(info.filename):
                data = exact_values(data, exact[info.filename])
            elif info.filename == "docProps/core.xml":
                data = pin_core_dates(data)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3               # Unix, whichever system writes it
            entry.external_attr = 0o644 << 16     # rw-r--r--
            zout.writestr(entry, data, compresslevel=ZIP_LEVEL)
    return out.getvalue()
