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

import math
import os
import shutil
import subprocess
import sys
import tempfile
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
