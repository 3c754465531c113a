"""The textbook in docs/ stays true to the code, the workbooks and the commands.

The chapters follow a few conventions (docs/README.md explains them to
readers), and each is checked here:

    code reference    [`network.softmax`](../purenet/network.py): the name
                      resolves by import (purenet.network, then getattr) and
                      the link points at that module's file.  A backticked
                      `network.softmax` without a link must resolve too.
    link              every relative link target exists.
    workbook          in one paragraph, [forward_and_short_form.xlsx](...)
                      then "sheet **Forward**", then "block `z1`" or
                      "blocks `z1`, `h` and `p`": the sheet exists in the
                      committed workbook and each block name is a cell of it.
                      In a table row with a workbook link, every **bold**
                      name is a sheet of that workbook.
    equation          every display equation ($$ ... $$) is followed, before
                      the next one or the next heading, by a paragraph
                      starting "**Lives in**", which links code and either a
                      workbook or says "no workbook".
    quoted output     a ```text block comes right after a line
                      "Output of `COMMAND`...:"; COMMAND is `python3 -m
                      purenet SUB ...` with SUB a real subcommand, or
                      `python3 SCRIPT.py ...` with SCRIPT a real file.  Unless
                      the line says "recorded", the command is run again and
                      every quoted line must appear in its output, in order;
                      a line naming "Python X.Y" is compared only on X.Y.
    tables            the Jacobian sizes (chapter 2) and the learning rates
                      (chapter 5) equal what jacobian.py and train.py compute.
    hand example      chapter 1's 2-3-2 example (the parameters displayed, the
                      forward pass, one SGD step and the loss after) equals
                      network.py's numbers for tiny_examples/tiny_net.py.
    formula           a quoted `=INDEX(p,1,1)-INDEX(y,1,1)` is the formula of
                      some cell of the workbook linked last before it.
    workbook edits    the figures chapter 8 gives for its edits of
                      forward_and_short_form.xlsx are network.py's.
    speed figures     every figure in chapter 7's tables is one that
                      benchmarks/README.md records; its share of dark
                      pixels is the bundled MNIST's.
    length            each chapter has at most 1,500 words of prose.

Each checker returns a list of problems.  The last section feeds each one a
deliberately broken page, so none of these tests can pass by checking
nothing.
"""

import importlib
import importlib.util
import math
import re
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

from purenet import cli
from purenet.jacobian import dz_dW, jacobian_shapes, total_entries
from purenet.matrix import flatten, identity, matmul, outer
from purenet.network import backward, backward_one, forward, forward_one, mean_loss, sgd_step
from purenet.train import TrainConfig, learning_rate

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
CHAPTERS = ["01-network.md", "02-long-form.md", "03-short-form.md", "04-checking.md",
            "05-training.md", "06-batches-and-depth.md", "07-speed.md", "08-workbooks.md"]
PAGES = ["README.md"] + CHAPTERS
MAX_WORDS = 1500

Problems = List[str]


# --- reading a page ----------------------------------------------------------------------

def strip_fences(text: str) -> str:
    """The page with every fenced code block blanked (line count kept)."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
            out.append("")
        else:
            out.append("" if inside else line)
    return "\n".join(out)


def paragraphs(text: str) -> List[str]:
    """Blank-line separated paragraphs outside code blocks, each joined into one line."""
    return [" ".join(part.split("\n")) for part in re.split(r"\n\s*\n", strip_fences(text))
            if part.strip()]


LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
CODE_LINK = re.compile(r"\[`([A-Za-z_][\w.]*)`\]\(([^)\s]+)\)")
BARE_CODE = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)`")
WORKBOOK_LINK = re.compile(r"\[`?([\w-]+\.xlsx)`?\]\(([^)\s]+)\)")
SHEET = re.compile(r"\bsheet \*\*([^*]+)\*\*")
BLOCKS = re.compile(r"\bblocks? ((?:`[^`]+`)(?:(?:,? and |, )`[^`]+`)*)")
OUTPUT_OF = re.compile(r"^Output of `([^`]+)`(.*):$")


def is_relative(target: str) -> bool:
    return not re.match(r"^[a-z]+:|^#", target)


def resolve_target(page: Path, target: str) -> Path:
    return (page.parent / target.split("#")[0]).resolve()


# --- code references -----------------------------------------------------------------------

@lru_cache(maxsize=None)
def purenet_modules() -> Set[str]:
    """Dotted names under purenet that a reference may start with: network, commands.train, ..."""
    names = set()
    for path in (REPO / "purenet").rglob("*.py"):
        parts = path.relative_to(REPO / "purenet").with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names.add(".".join(parts))
    return names


def resolve(name: str) -> Tuple[Optional[object], str]:
    """(the module, the attribute path) for `module.attr...`; (None, why) if it does not resolve."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module_name = ".".join(parts[:i])
        if module_name not in purenet_modules():
            continue
        module = importlib.import_module("purenet." + module_name)
        obj = module
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return None, f"purenet.{module_name} has no {'.'.join(parts[i:])}"
            obj = getattr(obj, attr)
        return module, ".".join(parts[i:])
    return None, f"no module purenet.{parts[0]}"


def check_code_references(page: Path, text: str) -> Problems:
    problems = []
    body = strip_fences(text)
    for name, target in CODE_LINK.findall(body):
        if not target.endswith(".py") or not is_relative(target):
            continue  # a link to a folder or a page, checked as a link
        module, why = resolve(name)
        if module is None:
            problems.append(f"[`{name}`]({target}): {why}")
        elif Path(module.__file__).resolve() != resolve_target(page, target):
            problems.append(f"[`{name}`]({target}): the link points at another file than "
                            f"{Path(module.__file__).relative_to(REPO)}")
    for name in BARE_CODE.findall(CODE_LINK.sub("", body)):
        if name.split(".")[0] in {m.split(".")[0] for m in purenet_modules()} \
                and not name.endswith(".py"):
            module, why = resolve(name)
            if module is None:
                problems.append(f"`{name}`: {why}")
    return problems


def check_links(page: Path, text: str) -> Problems:
    return [f"[{label}]({target}): {resolve_target(page, target)} does not exist"
            for label, target in LINK.findall(strip_fences(text))
            if is_relative(target) and not resolve_target(page, target).exists()]


# --- workbook citations ------------------------------------------------------------------------

def workbook_citations(page: Path, text: str) -> Tuple[List[Tuple[Path, str, List[str]]], Problems]:
    """([(workbook, sheet, [block, ...]), ...], problems of form) for one page."""
    citations, problems = [], []
    for line in strip_fences(text).splitlines():
        books = WORKBOOK_LINK.findall(line)
        if line.startswith("|") and books:
            book = resolve_target(page, books[0][1])
            citations += [[book, sheet, []] for sheet in re.findall(r"\*\*([^*]+)\*\*", line)]
    for para in paragraphs(text):
        if para.startswith("|"):
            continue  # a table: its rows were read above
        events = sorted([(m.start(), "book", m) for m in WORKBOOK_LINK.finditer(para)]
                        + [(m.start(), "sheet", m) for m in SHEET.finditer(para)]
                        + [(m.start(), "blocks", m) for m in BLOCKS.finditer(para)],
                        key=lambda e: e[0])
        book: Optional[Path] = None
        current: Optional[List] = None
        orphan = False  # a sheet already reported: its blocks add nothing
        for _, kind, m in events:
            if kind == "book":
                book, current, orphan = resolve_target(page, m.group(2)), None, False
            elif kind == "sheet":
                if book is None:
                    problems.append(f"sheet **{m.group(1)}** is cited with no workbook "
                                    f"link before it in its paragraph: {para[:80]}...")
                    orphan = True
                    continue
                current, orphan = [book, m.group(1), []], False
                citations.append(current)
            elif not orphan:
                names = re.findall(r"`([^`]+)`", m.group(1))
                if current is None:
                    problems.append(f"block(s) {names} cited with no sheet before them "
                                    f"in their paragraph: {para[:80]}...")
                    continue
                current[2].extend(names)
    return [(b, s, list(n)) for b, s, n in citations], problems


@lru_cache(maxsize=None)
def workbook_cells(path: Path) -> Dict[str, Set[str]]:
    """{sheet name: every text value on that sheet} of a committed workbook."""
    import openpyxl
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: {v.strip() for row in ws.iter_rows(values_only=True)
                           for v in row if isinstance(v, str)}
                for ws in book.worksheets}
    finally:
        book.close()


def check_workbooks(page: Path, text: str) -> Problems:
    citations, problems = workbook_citations(page, text)
    for book, sheet, blocks in citations:
        where = book.relative_to(REPO) if REPO in book.parents else book
        if not book.exists():
            problems.append(f"{where}: the workbook is not committed (cited for sheet {sheet!r})")
            continue
        cells = workbook_cells(book)
        if sheet not in cells:
            problems.append(f"{where}: no sheet {sheet!r} (it has {', '.join(cells)})")
            continue
        problems += [f"{where}, sheet {sheet!r}: no block {name!r}"
                     for name in blocks if name not in cells[sheet]]
    return problems


@lru_cache(maxsize=None)
def workbook_formulas(path: Path) -> Set[str]:
    """Every formula written in a committed workbook, as its cell holds it ("=INDEX(p,1,1)-...")."""
    import openpyxl
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {v for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                for v in row if isinstance(v, str) and v.startswith("=")}
    finally:
        book.close()


FORMULA = re.compile(r"`(=[^`]+)`")


def quoted_formulas(page: Path, text: str) -> List[Tuple[Path, str]]:
    """(workbook, formula) for every `=...` quoted, with the last workbook linked before it."""
    found, book = [], None
    for para in paragraphs(text):
        events = sorted([(m.start(), "book", m) for m in WORKBOOK_LINK.finditer(para)]
                        + [(m.start(), "formula", m) for m in FORMULA.finditer(para)],
                        key=lambda e: e[0])
        for _, kind, m in events:
            if kind == "book":
                book = resolve_target(page, m.group(2))
            else:
                found.append((book, m.group(1)))
    return found


def check_formulas(page: Path, text: str) -> Problems:
    return [f"`{formula}` is quoted with no workbook linked before it" if book is None else
            f"`{formula}` is no cell's formula in {book.name}"
            for book, formula in quoted_formulas(page, text)
            if book is None or formula not in workbook_formulas(book)]


# --- equations -------------------------------------------------------------------------------------

def check_equations(text: str) -> Problems:
    """Each $$ display is followed by a **Lives in** paragraph before the next display or heading."""
    problems = []
    waiting: Optional[str] = None
    for para in paragraphs(text) + ["# end of page"]:
        if para.startswith("$$") or para.startswith("#"):
            if waiting is not None:
                problems.append(f"equation without a **Lives in** line after it: {waiting[:70]}...")
            waiting = para if para.startswith("$$") else None
        elif para.startswith("**Lives in**"):
            if not CODE_LINK.search(para):
                problems.append(f"a **Lives in** line links no function: {para[:70]}...")
            if not WORKBOOK_LINK.search(para) and "no workbook" not in para:
                problems.append(f"a **Lives in** line names no workbook and does not say "
                                f"'no workbook': {para[:70]}...")
            waiting = None
    return problems


# --- quoted output ---------------------------------------------------------------------------------

def quoted_outputs(text: str) -> Tuple[List[Tuple[str, str, List[str]]], Problems]:
    """([(command, rest of the line, quoted lines), ...], problems of form)."""
    lines = text.splitlines()
    found, problems = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            fence_start = i
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            body = lines[fence_start + 1:i]
            previous = next((l for l in reversed(lines[:fence_start]) if l.strip()), "")
            label = OUTPUT_OF.match(previous)
            if line.strip() == "```text":
                if label is None:
                    problems.append(f"line {fence_start + 1}: a text block not preceded by "
                                    "'Output of `COMMAND`:'")
                else:
                    found.append((label.group(1), label.group(2), body))
            elif label is not None:
                problems.append(f"line {fence_start + 1}: 'Output of' must be followed by a "
                                f"```text block, not {line.strip()}")
            elif line.strip() == "```":
                problems.append(f"line {fence_start + 1}: a code block without a language")
        elif OUTPUT_OF.match(line):
            following = next((l for l in lines[i + 1:] if l.strip()), "")
            if following.strip() != "```text":
                problems.append(f"line {i + 1}: {line!r} is not followed by a ```text block")
        i += 1
    return found, problems


@lru_cache(maxsize=None)
def subcommands() -> Tuple[str, ...]:
    return tuple(name for name, _, _ in cli._available_commands())


def command_problem(command: str) -> Optional[str]:
    """Why `command` is not something a reader can run from the repository root, or None."""
    words = shlex.split(command)
    if len(words) < 2 or words[0] != "python3":
        return f"{command!r}: expected 'python3 -m purenet ...' or 'python3 SCRIPT.py ...'"
    if words[1] == "-m":
        if words[2:3] != ["purenet"] or len(words) < 4:
            return f"{command!r}: expected 'python3 -m purenet SUBCOMMAND ...'"
        if words[3] not in subcommands():
            return (f"{command!r}: {words[3]!r} is not a purenet subcommand "
                    f"({', '.join(subcommands())})")
        return None
    if not words[1].endswith(".py") or not (REPO / words[1]).is_file():
        return f"{command!r}: {words[1]} is not a script in the repository"
    return None


def check_commands(text: str) -> Problems:
    found, problems = quoted_outputs(text)
    problems += [p for command, _, _ in found for p in [command_problem(command)] if p]
    return problems


def rerun_wanted(rest: str) -> Tuple[bool, str]:
    """(compare with a fresh run?, why not) from the text after the command on its line."""
    if "recorded" in rest:
        return False, "recorded output (not re-run)"
    version = re.search(r"Python (\d+)\.(\d+)", rest)
    if version and tuple(map(int, version.groups())) != sys.version_info[:2]:
        return False, f"quoted from Python {version.group(1)}.{version.group(2)}"
    return True, ""


@lru_cache(maxsize=None)
def fresh_output(command: str) -> List[str]:
    words = shlex.split(command)
    done = subprocess.run([sys.executable] + words[1:], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    return [l.rstrip() for l in (done.stdout + done.stderr).splitlines()]


def missing_lines(quoted: List[str], actual: List[str]) -> List[str]:
    """The quoted lines that do not appear in `actual` in the same order (empty if all do)."""
    position = 0
    for k, line in enumerate(l.rstrip() for l in quoted):
        if not line:
            continue
        try:
            position = actual.index(line, position) + 1
        except ValueError:
            return [l for l in quoted[k:] if l.strip()]
    return []


def check_outputs_match(text: str) -> Problems:
    found, _ = quoted_outputs(text)
    problems = []
    for command, rest, body in found:
        wanted, _ = rerun_wanted(rest)
        if wanted and command_problem(command) is None:
            missing = missing_lines(body, fresh_output(command))
            if missing:
                problems.append(f"{command!r} no longer prints {missing[0]!r} "
                                f"(in the order quoted)")
    return problems


# --- tables ------------------------------------------------------------------------------------------

def table_rows(text: str) -> List[List[str]]:
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in strip_fences(text).splitlines() if line.startswith("|")]


def number(cell: str) -> float:
    return float(cell.replace(",", ""))


def check_jacobian_table(text: str) -> Problems:
    tiny, mnist = dict(), dict()
    for name, rows, cols in jacobian_shapes((4, 3, 3)):
        tiny[name] = rows * cols
    for name, rows, cols in jacobian_shapes((784, 512, 10)):
        mnist[name] = rows * cols
    tiny["total"], mnist["total"] = total_entries((4, 3, 3)), total_entries((784, 512, 10))
    seen, problems = set(), []
    for row in table_rows(text):
        name = row[0].strip("`")
        if name in tiny and len(row) == 4:
            seen.add(name)
            for column, expected in ((2, tiny[name]), (3, mnist[name])):
                if number(row[column]) != expected:
                    problems.append(f"{name}: the table says {row[column]}, "
                                    f"jacobian.jacobian_shapes gives {expected:,}")
    problems += [f"{name}: missing from the table" for name in tiny if name not in seen]
    return problems


def check_learning_rate_table(text: str) -> Problems:
    config = TrainConfig()
    rates = {int(row[0]): number(row[1]) for row in table_rows(text)
             if len(row) == 2 and row[0].isdigit()}
    if sorted(rates) != list(range(1, config.epochs + 1)):
        return [f"the table has epochs {sorted(rates)}, the default run has 1..{config.epochs}"]
    return [f"epoch {e}: the table says {rates[e]}, train.learning_rate gives "
            f"{learning_rate(config, e - 1):.6f}"
            for e in rates if not math.isclose(rates[e], learning_rate(config, e - 1),
                                               abs_tol=5e-7)]


# --- chapter 1's example by hand ------------------------------------------------------------------

HAND_LR = 0.1   # the learning rate of chapter 1's one step, "$\eta = 0.1$" there


@lru_cache(maxsize=None)
def tiny_net():
    """tiny_examples/tiny_net.py, the 2-3-2 network chapter 1 works by hand."""
    spec = importlib.util.spec_from_file_location("tiny_net", REPO / "tiny_examples" / "tiny_net.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tex(name: str) -> str:
    """The code's name as the page writes it: dz2 -> $dz_2$, h -> $h$."""
    return f"${name[:-1]}_{name[-1]}$" if name[-1].isdigit() else f"${name}$"


def hand_example_values() -> Dict[str, object]:
    """Every quantity of chapter 1's example, computed by network.py, keyed as the page names it."""
    net = tiny_net()
    params = net.params()
    t = forward_one(params, net.x, net.y)
    b = backward_one(params, t)
    new = sgd_step(params, b.grads, HAND_LR)
    t2 = forward_one(new, net.x, net.y)
    values = {"$x$": net.x, "$y$": net.y}
    values.update({tex(name): getattr(params, name) for name in ("W1", "b1", "W2", "b2")})
    values.update({tex(name): getattr(t, name) for name in ("z1", "h", "z2", "p", "L")})
    values.update({tex(name): getattr(b, name)
                   for name in ("dz2", "dW2", "db2", "dh", "dz1", "dW1", "db1")})
    values.update({"new " + tex(name): getattr(new, name) for name in ("W1", "b1", "W2", "b2")})
    values.update({"new " + tex(name): getattr(t2, name) for name in ("z1", "h", "z2", "p", "L")})
    return values


def numbers_in(text: str) -> List[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def entries(value) -> List[float]:
    if isinstance(value, float):
        return [value]
    return [v for item in value for v in entries(item)] if isinstance(value[0], list) \
        else list(value)


def check_hand_example(text: str) -> Problems:
    """The parameters displayed and every table row of the example equal network.py's numbers.

    Each quoted number is rounded to at most six decimals, so it must lie within 5e-7 of the
    exact value (exact binary fractions are quoted exactly).
    """
    expected, problems, seen = hand_example_values(), [], set()
    if f"$\\eta = {HAND_LR:g}$" not in text:
        problems.append(f"the example's step does not say $\\eta = {HAND_LR:g}$")
    displayed = re.findall(r"(\w+) = \\begin\{pmatrix\}(.*?)\\end\{pmatrix\}",
                           strip_fences(text), re.S)
    rows = [(f"${name}$", body) for name, body in displayed]
    rows += [(row[0], row[2]) for row in table_rows(text) if len(row) == 3]
    for key, cell in rows:
        if key not in expected:
            continue
        seen.add(key)
        quoted, exact = numbers_in(cell), entries(expected[key])
        if len(quoted) != len(exact) or any(abs(q - e) > 5e-7 for q, e in zip(quoted, exact)):
            problems.append(f"{key}: the page says {quoted}, network.py gives "
                            f"{[round(e, 6) for e in exact]}")
    problems += [f"{key}: missing from the example" for key in expected if key not in seen]
    return problems


# --- chapter 8's edits -------------------------------------------------------------------------------

def workbook_edit_figures() -> Dict[str, float]:
    """The figures chapter 8 quotes, by network.py on forward_and_short_form.xlsx's numbers."""
    from purenet.xlsx.trace.numbers import Settings, tiny_example
    settings = Settings()

    def step(params):
        traces = forward(params, X, Y)
        grads = backward(params, traces)
        return traces, grads, mean_loss(forward(sgd_step(params, grads, settings.lr), X, Y))

    params, X, Y = tiny_example(settings)
    traces, grads, after = step(params)
    figures = {"W1[2,1]": params.W1[1][0], "dL/dW1[2,1]": grads.W1[1][0],
               "new W1[2,1]": params.W1[1][0] - settings.lr * grads.W1[1][0],
               "L": mean_loss(traces), "L after": after, "z1_2 of example 2": traces[1].z1[1]}
    params.W1[1][0] = 0.5
    traces, grads, after = step(params)
    figures.update({"dL/dW1[2,1], W1[2,1] = 0.5": grads.W1[1][0],
                    "L, W1[2,1] = 0.5": mean_loss(traces), "L after, W1[2,1] = 0.5": after})
    params.W1 = [[0.0] * len(row) for row in params.W1]
    params.W2 = [[0.0] * len(row) for row in params.W2]
    traces, grads, after = step(params)
    figures.update({"L, zero weights": mean_loss(traces), "L after, zero weights": after})
    figures.update({f"db2_{k}, zero weights": g for k, g in enumerate(grads.b2, 1)})
    return figures


ZERO_WEIGHTS_DB2 = "$(-1/6, -1/6, 1/3)$"   # as chapter 8 writes it


def check_workbook_edit_figures(text: str) -> Problems:
    plain = text.replace("\u2212", "-")      # the page may write a minus as U+2212
    figures = workbook_edit_figures()
    db2 = [figures.pop(f"db2_{k}, zero weights") for k in (1, 2, 3)]
    problems = [f"{name}: {value:.6f} is not on the page"
                for name, value in figures.items() if f"{value:.6f}" not in plain]
    if ZERO_WEIGHTS_DB2 not in plain or any(abs(g - e) > 1e-15
                                            for g, e in zip(db2, (-1 / 6, -1 / 6, 1 / 3))):
        problems.append(f"db2 with zero weights: network.py gives {db2}, the page should say "
                        f"{ZERO_WEIGHTS_DB2}")
    return problems


# --- chapter 7's figures -------------------------------------------------------------------------------

BENCHMARKS = REPO / "benchmarks" / "README.md"
FIGURE = re.compile(r"\d+(?:[.:]\d+)+%?")


def check_speed_figures(text: str) -> Problems:
    """Every decimal figure in chapter 7's tables is one benchmarks/README.md records."""
    recorded = BENCHMARKS.read_text(encoding="utf-8")
    return [f"{figure} (table row {row[0]!r}) is not in benchmarks/README.md"
            for row in table_rows(text) for cell in row for figure in FIGURE.findall(cell)
            if figure not in recorded]


def dark_pixels() -> Tuple[float, float]:
    """(the fraction of MNIST's training pixels that are 0, the mean number lit per image)."""
    from purenet.mnist import load_mnist
    images = load_mnist("train").images
    zeros = sum(image.count(0) for image in images)
    pixels = sum(len(image) for image in images)
    return zeros / pixels, (pixels - zeros) / len(images)


# --- length ----------------------------------------------------------------------------------------------

def prose_words(text: str) -> int:
    """Words outside code blocks and display maths; link targets dropped, inline maths one word."""
    text = re.sub(r"\$\$.*?\$\$", " ", strip_fences(text), flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\$[^$]*\$", " M ", text)
    return len(re.findall(r"[A-Za-z0-9][\w'.,-]*", text))


# --- the docs as they are ------------------------------------------------------------------------------

def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def report(problems: Problems) -> str:
    return "\n".join(problems)


def test_the_contents_link_the_chapters_in_reading_order():
    links = [target for _, target in LINK.findall(read("README.md"))
             if target in CHAPTERS]
    first_mentions = list(dict.fromkeys(links))
    assert first_mentions == CHAPTERS


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_links_back_to_the_contents(name):
    assert "](README.md)" in read(name)


@pytest.mark.parametrize("name", PAGES)
def test_every_code_reference_resolves_by_import(name):
    assert check_code_references(DOCS / name, read(name)) == [], \
        report(check_code_references(DOCS / name, read(name)))


@pytest.mark.parametrize("name", PAGES)
def test_every_relative_link_exists(name):
    problems = check_links(DOCS / name, read(name))
    assert problems == [], report(problems)


@pytest.mark.parametrize("name", PAGES)
def test_every_sheet_and_block_cited_exists_in_the_committed_workbook(name):
    citations, problems = workbook_citations(DOCS / name, read(name))
    assert problems == [], report(problems)
    if not citations:
        pytest.skip(f"{name} cites no workbook sheet")
    pytest.importorskip("openpyxl", reason="openpyxl is needed to read the workbooks' sheet "
                                           "names (pip install 'openpyxl==3.1.5')")
    problems = check_workbooks(DOCS / name, read(name))
    assert problems == [], report(problems)


def test_every_quoted_formula_is_a_cell_of_the_workbook_linked_before_it():
    pytest.importorskip("openpyxl", reason="openpyxl is needed to read the workbooks' formulas")
    assert len(quoted_formulas(DOCS / "08-workbooks.md", read("08-workbooks.md"))) >= 10
    problems = [f"{name}: {p}" for name in PAGES for p in check_formulas(DOCS / name, read(name))]
    assert problems == [], report(problems)


def test_chapter_8s_edits_are_what_network_py_computes():
    problems = check_workbook_edit_figures(read("08-workbooks.md"))
    assert problems == [], report(problems)


def test_chapter_7s_tables_quote_benchmarks_readme():
    text = read("07-speed.md")
    assert len([f for row in table_rows(text) for cell in row for f in FIGURE.findall(cell)]) >= 15
    problems = check_speed_figures(text)
    assert problems == [], report(problems)


def test_chapter_7s_dark_pixels_are_mnists():
    fraction, lit = dark_pixels()
    assert f"{100 * fraction:.1f}% of the pixels" in read("07-speed.md")
    assert f"{lit:.1f} lit pixels" in read("07-speed.md")


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_equation_says_where_it_lives(name):
    problems = check_equations(read(name))
    assert problems == [], report(problems)


@pytest.mark.parametrize("name", PAGES)
def test_every_quoted_output_names_a_command_that_exists(name):
    problems = check_commands(read(name))
    assert problems == [], report(problems)


@pytest.mark.parametrize("name", CHAPTERS)
def test_quoted_output_is_what_the_command_prints_now(name):
    found, _ = quoted_outputs(read(name))
    if not any(rerun_wanted(rest)[0] for _, rest, _ in found):
        pytest.skip(f"{name}: nothing to re-run on Python {sys.version_info[0]}."
                    f"{sys.version_info[1]}")
    problems = check_outputs_match(read(name))
    assert problems == [], report(problems)


def test_the_chapters_quote_real_output_at_all():
    quoted = [command for name in CHAPTERS for command, _, _ in quoted_outputs(read(name))[0]]
    assert any("gradcheck" in command for command in quoted)
    assert len(quoted) >= 6


def test_the_jacobian_table_matches_jacobian_py():
    problems = check_jacobian_table(read("02-long-form.md"))
    assert problems == [], report(problems)


def test_the_learning_rate_table_matches_train_py():
    problems = check_learning_rate_table(read("05-training.md"))
    assert problems == [], report(problems)


def test_chapter_1s_example_by_hand_is_what_network_py_computes():
    problems = check_hand_example(read("01-network.md"))
    assert problems == [], report(problems)


def kron(A: List[List[float]], B: List[List[float]]) -> List[List[float]]:
    """The Kronecker product: block (i, j) is A[i][j] B."""
    return [[a * b for a in row_a for b in row_b] for row_a in A for row_b in B]


def test_chapter_3s_bridge_dz1_dW1_is_I_kron_x_and_its_vjp_the_outer_product():
    # dz1/dvec(W1) = I (x) x^T, and dz1^T (I (x) x^T) = vec(dz1 x^T)^T, on a 3-4 layer
    x, dz1 = [0.5, -1.25, 2.0, 0.75], [0.3, -0.7, 1.1]
    J = dz_dW(x, len(dz1))
    assert J == kron(identity(len(dz1)), [x])
    assert matmul([dz1], J) == [flatten(outer(dz1, x))]


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_is_at_most_1500_words(name):
    assert 300 < prose_words(read(name)) <= MAX_WORDS


# --- the checks catch what they are for ------------------------------------------------------------------

PAGE = DOCS / "01-network.md"


def test_a_missing_function_is_caught():
    assert check_code_references(PAGE, "[`network.softmax`](../purenet/network.py)") == []
    problems = check_code_references(PAGE, "[`network.softmaks`](../purenet/network.py)")
    assert problems == ["[`network.softmaks`](../purenet/network.py): "
                        "purenet.network has no softmaks"]
    assert check_code_references(PAGE, "see `network.sofmax` here") != []


def test_a_link_to_the_wrong_module_is_caught():
    problems = check_code_references(PAGE, "[`network.softmax`](../purenet/matrix.py)")
    assert len(problems) == 1 and "another file" in problems[0]


def test_a_missing_file_is_caught():
    assert check_links(PAGE, "[x](../purenet/network.py)") == []
    assert len(check_links(PAGE, "[x](../purenet/netwrok.py)")) == 1


def test_a_sheet_or_block_cited_without_its_workbook_is_caught():
    _, problems = workbook_citations(PAGE, "On sheet **Forward**, block `z1`.")
    assert len(problems) == 1 and "no workbook" in problems[0]
    _, problems = workbook_citations(PAGE, "[a.xlsx](../spreadsheets/a.xlsx), block `z1`.")
    assert len(problems) == 1 and "no sheet" in problems[0]


def test_citations_are_read_with_their_sheet_and_blocks():
    citations, problems = workbook_citations(
        PAGE, "[forward_and_short_form.xlsx](../spreadsheets/forward_and_short_form.xlsx), "
              "sheet **Short form**, blocks `dz2`, `[z1 > 0]` and `dW1 (ex. 1)`; "
              "sheet **Update**, block `new W1`.")
    book = REPO / "spreadsheets" / "forward_and_short_form.xlsx"
    assert problems == []
    assert citations == [(book, "Short form", ["dz2", "[z1 > 0]", "dW1 (ex. 1)"]),
                         (book, "Update", ["new W1"])]


def test_a_wrong_sheet_or_block_name_is_caught():
    pytest.importorskip("openpyxl", reason="openpyxl is needed to read the workbooks")
    link = "[forward_and_short_form.xlsx](../spreadsheets/forward_and_short_form.xlsx)"
    if not (REPO / "spreadsheets" / "forward_and_short_form.xlsx").exists():
        pytest.fail("spreadsheets/forward_and_short_form.xlsx is not committed")
    assert check_workbooks(PAGE, f"{link}, sheet **Forward**, block `z1`.") == []
    assert len(check_workbooks(PAGE, f"{link}, sheet **Backward**, block `z1`.")) == 1
    assert len(check_workbooks(PAGE, f"{link}, sheet **Forward**, block `z3`.")) == 1


def test_an_equation_without_its_lives_in_line_is_caught():
    good = "$$\nz_1 = W_1 x\n$$\n\n**Lives in** [`network.forward_one`](x.py); no workbook.\n"
    assert check_equations(good) == []
    assert len(check_equations("$$\nz_1 = W_1 x\n$$\n\nSome prose.\n\n## Next\n")) == 1
    assert len(check_equations(good.replace("; no workbook", ""))) == 1
    assert len(check_equations(good.replace("[`network.forward_one`](x.py)", "it"))) == 1


def test_unlabelled_or_unreal_output_is_caught():
    assert check_commands("Output of `python3 -m purenet gradcheck`:\n\n```text\nPASS\n```\n") == []
    assert len(check_commands("Look:\n\n```text\nPASS: 1e-11\n```\n")) == 1
    assert len(check_commands("Output of `python3 -m purenet gradchek`:\n\n```text\nx\n```\n")) == 1
    assert len(check_commands("Output of `python3 tiny_examples/99_none.py`:\n\n```text\nx\n```\n")) == 1
    assert len(check_commands("Output of `python3 -m purenet gradcheck`:\n\nno block\n")) == 1


def test_an_edited_figure_is_caught():
    actual = ["a = 1", "b = 2", "c = 3"]
    assert missing_lines(["a = 1", "", "c = 3"], actual) == []
    assert missing_lines(["a = 1", "b = 2.5"], actual) == ["b = 2.5"]
    assert missing_lines(["c = 3", "a = 1"], actual) == ["a = 1"]  # order matters
    page = ("Output of `python3 tiny_examples/01_forward_by_hand.py`:\n\n```text\n"
            "  z1[0] = (0.5)(1) + (0.25)(2) + (0) = 2\n```\n")
    assert len(check_outputs_match(page)) == 1


def test_a_wrong_table_entry_is_caught():
    text = read("02-long-form.md").replace("| 205,520,896 |", "| 205,520,897 |")
    assert len(check_jacobian_table(text)) == 1
    text = read("05-training.md").replace("| 0.150000 |", "| 0.160000 |")
    assert len(check_learning_rate_table(text)) == 1


def test_a_formula_no_cell_holds_is_caught():
    pytest.importorskip("openpyxl", reason="openpyxl is needed to read the workbooks")
    link = "[forward_and_short_form.xlsx](../spreadsheets/forward_and_short_form.xlsx)"
    assert check_formulas(PAGE, f"{link}: `=INDEX(p,1,1)-INDEX(y,1,1)`.") == []
    assert len(check_formulas(PAGE, f"{link}: `=INDEX(p,1,1)+INDEX(y,1,1)`.")) == 1
    assert len(check_formulas(PAGE, "No link: `=INDEX(p,1,1)-INDEX(y,1,1)`.")) == 1


def test_a_wrong_figure_of_chapter_8_is_caught():
    text = read("08-workbooks.md")
    assert check_workbook_edit_figures(text) == []
    assert len(check_workbook_edit_figures(text.replace("0.482770", "0.482771"))) == 1


def test_a_speed_figure_not_in_benchmarks_readme_is_caught():
    text = read("07-speed.md")
    assert check_speed_figures(text) == []
    assert len(check_speed_figures(text.replace("| 0.441 |", "| 0.414 |"))) == 1


def test_a_wrong_number_in_the_hand_example_is_caught():
    text = read("01-network.md")
    assert check_hand_example(text) == []
    wrong_L = text.replace("| $L$ | $-\\ln p_0$ | $0.632599$ |", "| $L$ | $-\\ln p_0$ | $0.632600$ |")
    assert len(check_hand_example(wrong_L)) == 1
    wrong_W2 = text.replace("W_2 = \\begin{pmatrix} 1 & 0.5 & -1", "W_2 = \\begin{pmatrix} 1 & 0.5 & 1")
    assert len(check_hand_example(wrong_W2)) == 1
    missing = text.replace("| new $L$ |", "| newer $L$ |")
    assert check_hand_example(missing) == ["new $L$: missing from the example"]
    assert len(check_hand_example(text.replace("$\\eta = 0.1$", "$\\eta = 0.2$"))) == 1


# --- the test command ----------------------------------------------------------------------------

def readme_test_command() -> str:
    """The README's command marked "# run the tests", without the comment."""
    lines = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
             if line.rstrip().endswith("# run the tests")]
    assert len(lines) == 1, lines
    return lines[0].split("#")[0].strip()


def test_ci_runs_the_readme_test_command_verbatim():
    command = readme_test_command()
    assert "--cov=purenet --cov-report=term-missing" in command
    assert command in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_coverage_floor_and_subprocess_measurement_are_configured():
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^patch = \["subprocess"\]$', text, re.M)
    assert re.search(r"^parallel = true$", text, re.M)
    assert re.search(r"^fail_under = 95$", text, re.M)
