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
    length            each chapter has at most 1,500 words of prose.

Each checker returns a list of problems.  The last section feeds each one a
deliberately broken page, so none of these tests can pass by checking
nothing.
"""

import importlib
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
from purenet.jacobian import jacobian_shapes, total_entries
from purenet.train import TrainConfig, learning_rate

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
CHAPTERS = ["01-network.md", "02-long-form.md", "03-short-form.md", "04-checking.md",
            "05-training.md"]
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


def test_the_contents_link_the_five_chapters_in_reading_order():
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
