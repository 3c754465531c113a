"""Recalculate workbooks with LibreOffice and compare every formula with Python's value.

Used by the tests (``import xlsx_recalc``) and by tests/xlsx_gallery.py,
and from the command line to check workbooks by hand:

    python3 tests/xlsx_recalc.py spreadsheets/report.xlsx

Why the throw-away profile: a purenet workbook carries a cached value for
every formula, and a stock LibreOffice trusts cached values and does not
recalculate on load, so a check that merely converts the file would pass
broken formulas.  ``recalculate`` starts soffice with a fresh user profile
whose settings say "always recalculate" for .xlsx and .ods
(``OOXMLRecalcMode`` and ``ODFRecalcMode`` = 0), converts the workbooks to
.xlsx again, and the values LibreOffice writes are the ones it computed.
A profile of its own per call also keeps parallel runs from clashing on
LibreOffice's lock file.

The comparison: a recalculated value b matches Python's a when

    |a - b| <= max(REL_TOL * max(|a|, |b|), ABS_FLOOR)

REL_TOL = 1e-9 relative; ABS_FLOOR = 1e-12 absolute, for values that are
differences of two nearly equal numbers: |central difference - short form|
is about 1e-11, and a last-bit difference in either term (the programs
round EXP, LN and sums their own way) moves it by 1e-17, which is 1e-6 of
it.  In the purenet workbooks only such cells on the Check sheets need the
floor.  Any cell that is not a number afterwards (#NAME?, #VALUE!, #REF!,
Err:502, empty) is a failure.
"""

import html
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REL_TOL = 1e-9
ABS_FLOOR = 1e-12
SOFFICE_TIMEOUT = 300

Cell = Tuple[str, str]   # (sheet title, "B7")

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop>
</item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop>
</item>
</oor:items>
"""

INSTALL_HINT = ("apt-get update && apt-get install -y --no-install-recommends "
                "libreoffice-calc")


def find_soffice() -> Optional[str]:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """soffice's path; without it, fail when CI=true, else skip with a loud reason."""
    import pytest
    soffice = find_soffice()
    if soffice is not None:
        return soffice
    message = ("LibreOffice (soffice) is not installed, so the workbooks' formulas were NOT "
               f"recalculated and checked; install it with: {INSTALL_HINT}")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip("!!! " + message)


def make_profile(directory: Path) -> str:
    """A fresh LibreOffice user profile that always recalculates; returns its file:// URL."""
    user = directory / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    return directory.resolve().as_uri()


def soffice_convert(paths: Sequence[Path], out_dir: Path, target: str) -> List[Path]:
    """Convert files with one soffice process (fresh profile), e.g. target 'xlsx' or 'pdf'."""
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("soffice (LibreOffice) is not on PATH")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="purenet-lo-profile-") as profile:
        done = subprocess.run(
            [soffice, f"-env:UserInstallation={make_profile(Path(profile))}", "--headless",
             "--norestore", "--convert-to", target, "--outdir", str(out_dir),
             *[str(p) for p in paths]],
            capture_output=True, text=True, timeout=SOFFICE_TIMEOUT)
    outputs = [out_dir / (Path(p).stem + "." + target.split(":")[0]) for p in paths]
    missing = [str(o) for o in outputs if not o.exists()]
    if done.returncode != 0 or missing:
        raise RuntimeError(f"soffice failed (exit {done.returncode}), missing {missing}:\n"
                           f"{done.stdout}\n{done.stderr}")
    return outputs


def recalculate(paths: Sequence[Path], out_dir: Path) -> List[Path]:
    """Each workbook opened, fully recalculated and saved again as .xlsx by LibreOffice."""
    return soffice_convert(paths, out_dir, "xlsx")


def formula_cells(path: Path) -> Dict[Cell, str]:
    """(sheet, cell) -> formula text, for every formula in the workbook."""
    import openpyxl
    wb = openpyxl.load_workbook(path, data_only=False)
    return {(ws.title, cell.coordinate): cell.value
            for ws in wb.worksheets for row in ws.iter_rows() for cell in row
            if cell.data_type == "f"}


def values_at(path: Path, cells: Sequence[Cell]) -> Dict[Cell, object]:
    """The stored (cached) value of each cell, as openpyxl's data_only=True reads it."""
    import openpyxl
    wb = openpyxl.load_workbook(path, data_only=True)
    return {(sheet, coord): wb[sheet][coord].value for sheet, coord in cells}


_ELEMENT = re.compile(r"<(sheet|Relationship) ([^>]*)>")
_ATTRIBUTE = re.compile(r'([\w:]+)="([^"]*)"')
_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_TYPE = re.compile(rb'\bt="([A-Za-z]+)"')
_SHARED = re.compile(rb"<si>(.*?)</si>", re.S)
_TEXT = re.compile(rb"<t[^>]*>([^<]*)</t>")


def _cells(path: Path, sheets: Optional[Sequence[str]] = None):
    """(sheet, cell, type, inner XML) of every cell, read from the XML with the standard library."""
    def elements(xml: bytes):
        for _, attributes in _ELEMENT.findall(xml.decode("utf-8")):
            yield dict(_ATTRIBUTE.findall(attributes))

    with zipfile.ZipFile(path) as book:
        targets = {e["Id"]: e["Target"] for e in elements(book.read("xl/_rels/workbook.xml.rels"))}
        for sheet in elements(book.read("xl/workbook.xml")):
            title = html.unescape(sheet["name"])
            if sheets is not None and title not in sheets:
                continue
            target = targets[sheet["r:id"]].lstrip("/")
            target = target if target.startswith("xl/") else "xl/" + target
            for coord, attributes, inner in _CELL.findall(book.read(target)):
                kind = _TYPE.search(attributes)
                yield title, coord.decode("ascii"), kind.group(1) if kind else b"n", inner or b""


def stored_values(path: Path, sheets: Optional[Sequence[str]] = None) -> Dict[Cell, object]:
    """(sheet, cell) -> stored value of every cell that holds one: what values_at gives,
    about ten times faster, for workbooks of hundreds of thousands of cells.  Numbers are
    floats, text is str (inline or shared strings, error values such as #VALUE! as their
    text)."""
    shared: List[str] = []
    with zipfile.ZipFile(path) as book:
        if "xl/sharedStrings.xml" in book.namelist():
            shared = [html.unescape(b"".join(_TEXT.findall(si)).decode("utf-8"))
                      for si in _SHARED.findall(book.read("xl/sharedStrings.xml"))]
    out: Dict[Cell, object] = {}
    for title, coord, kind, inner in _cells(path, sheets):
        if kind == b"inlineStr":        # openpyxl's text: <is><t>...</t></is>
            out[(title, coord)] = html.unescape(b"".join(_TEXT.findall(inner)).decode("utf-8"))
            continue
        found = _VALUE.search(inner)
        if found is None:
            continue
        text = found.group(1).decode("utf-8")
        if kind == b"n":
            out[(title, coord)] = float(text)
        elif kind == b"s":
            out[(title, coord)] = shared[int(text)]
        elif kind == b"b":
            out[(title, coord)] = text == "1"
        else:
            out[(title, coord)] = html.unescape(text)
    return out


def formula_cells_fast(path: Path) -> List[Cell]:
    """The (sheet, cell) of every formula, as formula_cells finds them, from the XML."""
    return [(title, coord) for title, coord, _, inner in _cells(path) if b"<f" in inner]


def byte_difference(ours: bytes, theirs: bytes) -> str:
    """"" if two .xlsx files are the same bytes, else which zip entries differ.

    Tests assert ``not byte_difference(a, b)`` rather than ``a == b``: on
    failure pytest would diff the two byte strings, which for an 8 MB
    workbook runs for many minutes.
    """
    if ours == theirs:
        return ""
    with zipfile.ZipFile(io.BytesIO(ours)) as a, zipfile.ZipFile(io.BytesIO(theirs)) as b:
        names = sorted(set(a.namelist()) | set(b.namelist()))
        differ = [n for n in names if n not in a.namelist() or n not in b.namelist()
                  or a.read(n) != b.read(n)]
    return (f"{len(ours):,} and {len(theirs):,} bytes; entries that differ: "
            f"{', '.join(differ) or 'none (only the zip metadata)'}")


def is_number(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def matches(expected: float, actual: float) -> bool:
    return abs(expected - actual) <= max(REL_TOL * max(abs(expected), abs(actual)), ABS_FLOOR)


def compare(expected: Dict[Cell, object], actual: Dict[Cell, object]) -> List[str]:
    """One line per cell whose recalculated value is an error or differs from Python's."""
    problems = []
    for cell, want in sorted(expected.items()):
        got = actual.get(cell)
        where = f"{cell[0]}!{cell[1]}"
        if not is_number(want):
            problems.append(f"{where}: no cached Python value ({want!r})")
        elif not is_number(got):
            problems.append(f"{where}: LibreOffice gives {got!r}")
        elif not matches(want, got):
            problems.append(f"{where}: LibreOffice {got!r}, Python {want!r}")
    return problems


def below_floor(expected: Dict[Cell, object]) -> int:
    """How many cells are compared by the absolute floor rather than relatively."""
    return sum(1 for v in expected.values() if is_number(v) and abs(v) * REL_TOL < ABS_FLOOR)


def main(argv: List[str]) -> int:
    """python3 tests/xlsx_recalc.py BOOK.xlsx ...: recalculate, compare, print the problems."""
    if len(argv) < 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    books = [Path(a) for a in argv[1:]]
    with tempfile.TemporaryDirectory(prefix="purenet-recalc-") as tmp:
        done = recalculate(books, Path(tmp))
        bad = 0
        for book, redone in zip(books, done):
            cells = sorted(formula_cells(book))
            problems = compare(values_at(book, cells), values_at(redone, cells))
            bad += len(problems)
            print(f"{book}: {len(cells)} formulas, {len(problems)} differ from the cached values")
            for line in problems[:20]:
                print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
