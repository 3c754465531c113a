"""The gallery: a picture of every sheet of every committed workbook, in docs/gallery/.

    python3 tests/xlsx_gallery.py        # needs LibreOffice (soffice) and pdftoppm

Each sheet is printed whole on one page of its own size (LibreOffice's PDF
export with its SinglePageSheets option: nothing cut off, nothing
shrunk), drawn by pdftoppm at DPI dots per inch without anti-aliasing,
and saved as a palette PNG.  Without anti-aliasing a sheet has a few
dozen colours (fills, the heatmaps' shades, black and white text), each
kept exactly; smoothed text would bring thousands of blends, and fitting
those into 256 colours can wipe out a thin minus sign.  That makes the
files three times smaller than full-colour ones.  (A sheet with more than
256 colours, such as a report's pictures of weights, keeps the 256
commonest and draws the others in the nearest of them.)
docs/gallery/README.md lists the pictures, workbook by workbook, in sheet
order.  Of draw_a_digit.xlsx only the sheets a person reads at a glance
are pictured (PICTURED): its others hold 512 x 784 blocks of numbers, a
picture of a hundred thousand pixels a side.  The same command copies the README's pictures (spreadsheets/*.png)
from the gallery.

Standard library only, besides soffice and pdftoppm.
"""

import collections
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xlsx_recalc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"
DPI = 80                 # 11-point text 12 pixels high: as a screen shows a sheet at 100%
WHOLE_SHEET = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
# The README's pictures: (workbook, sheet, file in spreadsheets/).
README_PICTURES = [("forward_and_short_form.xlsx", "Short form", "short_form.png"),
                   ("report.xlsx", "Metrics", "report_metrics.png"),
                   ("report.xlsx", "Mistakes", "report_mistakes.png"),
                   ("draw_a_digit.xlsx", "Draw", "draw_a_digit.png")]
# The sheets pictured of a workbook, when not all of them.
PICTURED = {"draw_a_digit.xlsx": ("Start", "Draw")}


# --- PPM in, palette PNG out -------------------------------------------------------------

def read_ppm(path: Path) -> Tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a binary PPM (P6, 8 bits), as pdftoppm writes it."""
    data = path.read_bytes()
    fields = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if fields is None or fields.group(3) != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    width, height = int(fields.group(1)), int(fields.group(2))
    return width, height, data[fields.end():fields.end() + 3 * width * height]


def palette_of(rgb: bytes, size: int = 256) -> Tuple[List[bytes], Dict[bytes, int]]:
    """The `size` most frequent colours, and each colour's index among them (the nearest)."""
    counts = collections.Counter(rgb[i:i + 3] for i in range(0, len(rgb), 3))
    kept = [colour for colour, _ in counts.most_common(size)]
    index = {colour: i for i, colour in enumerate(kept)}
    for colour in counts:
        if colour not in index:
            index[colour] = min(range(len(kept)), key=lambda i: sum(
                (a - b) ** 2 for a, b in zip(colour, kept[i])))
    return kept, index


def chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_palette_png(path: Path, width: int, height: int, rgb: bytes) -> None:
    """An 8-bit palette PNG of the image (PNG specification, colour type 3)."""
    palette, index = palette_of(rgb)
    rows = bytearray()
    stride = 3 * width
    for y in range(height):
        line = rgb[y * stride:(y + 1) * stride]
        rows.append(0)                                  # filter type 0: none
        rows.extend(index[line[i:i + 3]] for i in range(0, stride, 3))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
                     + chunk(b"PLTE", b"".join(palette))
                     + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
                     + chunk(b"IEND", b""))


# --- the gallery -------------------------------------------------------------------------

def picture_name(book: Path, sheet: str) -> str:
    return f"{book.stem}-{re.sub(r'[^A-Za-z0-9]+', '_', sheet).strip('_')}.png"


def sheet_titles(book: Path) -> List[str]:
    import openpyxl
    wb = openpyxl.load_workbook(book, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def pictured(book: Path) -> List[str]:
    """The titles of the sheets of `book` that the gallery pictures, in sheet order."""
    titles = sheet_titles(book)
    return [t for t in titles if t in PICTURED.get(book.name, titles)]


def gallery(books: Sequence[Path], out: Path, dpi: int = DPI) -> List[Path]:
    """Every sheet of every workbook as a PNG in `out`, and out/README.md; returns the PNGs."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    made: List[Path] = []
    lines = ["# The workbooks, sheet by sheet", "",
             "Every sheet of every workbook in [spreadsheets/](../../spreadsheets) (of "
             "draw_a_digit.xlsx the first two), printed whole "
             "by LibreOffice (one page per sheet, at 100%) and drawn at "
             f"{dpi} dots per inch. Regenerated by `python3 tests/xlsx_gallery.py`; a wide "
             "sheet is shrunk to the page here: click it to see it at full size.", ""]
    with tempfile.TemporaryDirectory(prefix="purenet-gallery-") as tmp:
        pdfs = xlsx_recalc.soffice_convert(list(books), Path(tmp), WHOLE_SHEET)
        for book, pdf in zip(books, pdfs):
            titles = sheet_titles(book)
            pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout)[1])
            if pages != len(titles):
                raise RuntimeError(f"{book.name}: {pages} pages for {len(titles)} sheets")
            lines += [f"## {book.name}", ""]
            shown = pictured(book)
            if len(shown) < len(titles):
                lines += [f"Sheets {', '.join(t for t in titles if t not in shown)}: not "
                          "pictured, each a block of hundreds of rows or columns of numbers.", ""]
            for page, title in enumerate(titles, 1):
                if title not in shown:
                    continue
                ppm = Path(tmp) / f"page{page}"
                subprocess.run(["pdftoppm", "-r", str(dpi), "-aa", "no", "-aaVector", "no",
                                "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                                str(ppm)], check=True)
                png = out / picture_name(book, title)
                write_palette_png(png, *read_ppm(ppm.with_suffix(".ppm")))
                made.append(png)
                lines += [f"### {title}", "", f"![{book.name}, sheet {title}]({png.name})", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return made


def main() -> int:
    books = sorted((ROOT / "spreadsheets").glob("*.xlsx"))
    made = gallery(books, GALLERY)
    for book, sheet, target in README_PICTURES:
        shutil.copyfile(GALLERY / picture_name(ROOT / "spreadsheets" / book, sheet),
                        ROOT / "spreadsheets" / target)
    total = sum(p.stat().st_size for p in made)
    print(f"wrote {len(made)} pictures to {GALLERY.relative_to(ROOT)} ({total:,} bytes) and "
          f"{len(README_PICTURES)} to spreadsheets/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
