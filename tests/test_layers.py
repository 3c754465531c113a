"""The layers of purenet, read from the code's own imports: this table is the map of the code.

    place       what it is                                    what of purenet it may import
    ---------   -------------------------------------------   ------------------------------------
    matrix      lists as vectors and matrices                 nothing
    network     the forward pass, the short form              matrix
    jacobian    the long form                                 matrix, network
    gradcheck   finite differences against both               the chapters before it
    train       SGD with momentum, the epoch loop             the chapters before it
    speed/      the same numbers, faster (kernels, engines)   the five chapters, and itself
    files, progress                                           nothing
    atomic, mnist   saving whole, the MNIST files             files
    image       reading pictures                              atomic
    digit       a picture prepared as MNIST's digits were     image
    metrics     accuracy, precision, recall, F1               matrix
    json_text   JSON one row to a line, every number a float  nothing
    predictions test predictions stored with a model          network
    model_io    the model file                                matrix, network, atomic, files,
                                                              json_text, predictions
    jacobian_cost  the long form's measured cost              the five chapters
    xlsx/       workbooks                                     the chapters, the data modules, itself
    commands/   one module per subcommand                     anything but cli
    cli         the command line                              anything

and, from outside the standard library: argparse and openpyxl only in
commands/, cli and xlsx/ (the core never parses a flag or writes a cell),
tracemalloc only where memory is measured.  A module missing from the
table fails the test: a new file is placed on the map when it is written.
"""

import ast
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "purenet"

CHAPTERS = ("matrix", "network", "jacobian", "gradcheck", "train")   # the reading order
CORE = set(CHAPTERS)
DATA = {"files", "atomic", "progress", "mnist", "image", "digit", "metrics", "json_text",
        "predictions", "model_io"}
LIBRARY = CORE | DATA | {"speed", "jacobian_cost", "xlsx"}     # everything but the command line

# place -> the places of purenet it may import (a place is a module, or a package and all in it)
MAY_IMPORT: Dict[str, Set[str]] = {
    "matrix": set(),
    "network": {"matrix"},
    "jacobian": {"matrix", "network"},
    "gradcheck": {"matrix", "network", "jacobian"},
    "train": {"matrix", "network", "jacobian", "gradcheck"},
    "speed": CORE | {"speed"},
    "files": set(),
    "atomic": {"files"},
    "progress": set(),
    "mnist": {"files"},
    "image": {"atomic"},
    "digit": {"image"},
    "metrics": {"matrix"},
    "json_text": set(),
    "predictions": {"network"},
    "model_io": {"matrix", "network", "atomic", "files", "json_text", "predictions"},
    "jacobian_cost": CORE,
    "xlsx": CORE | DATA | {"xlsx"},
    "commands": LIBRARY | {"commands"},
    "cli": LIBRARY | {"commands"},
    "__main__": {"cli"},
    "__init__": set(),
}
COMMAND_LINE_PLACES = {"commands", "cli", "xlsx"}
COMMAND_LINE_LIBRARIES = {"argparse": {"commands", "cli"}, "openpyxl": {"xlsx"},
                          "tracemalloc": {"jacobian_cost"}}


def modules() -> Iterator[Tuple[str, Path]]:
    """(dotted name inside purenet, path) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(parts), path


def place(module: str) -> str:
    """The row of the table a module falls under: its top-level module or package."""
    return module.split(".")[0]


def imports(module: str, path: Path) -> Tuple[Set[str], Set[str]]:
    """(modules of purenet, top-level outside modules) that the file imports."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if module == "__init__":
        package = []
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")
                (ours.add(".".join(top[1:])) if top[0] == "purenet" else theirs.add(top[0]))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            top = node.module.split(".")
            if top[0] == "purenet":
                ours.add(".".join(top[1:]) or "__init__")
            else:
                theirs.add(top[0])
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            if node.module is None:     # from . import x: a module x, or a name of the package
                for alias in node.names:
                    candidate = target + [alias.name]
                    is_module = (PACKAGE.joinpath(*candidate).with_suffix(".py").exists()
                                 or PACKAGE.joinpath(*candidate).is_dir())
                    ours.add(".".join(candidate if is_module else target) or "__init__")
            else:
                ours.add(".".join(target))
    return ours, theirs


def test_every_module_is_on_the_map():
    missing = sorted(m for m, _ in modules() if place(m) not in MAY_IMPORT)
    assert missing == []


@pytest.mark.parametrize("module, path", list(modules()), ids=[m for m, _ in modules()])
def test_each_module_imports_only_what_its_layer_may(module, path):
    allowed = MAY_IMPORT[place(module)] | {place(module)}     # and itself, within a package
    ours, theirs = imports(module, path)
    wrong = sorted(m for m in ours if place(m) not in allowed)
    assert wrong == [], f"{module} may import only {sorted(allowed)}"
    for library, places in COMMAND_LINE_LIBRARIES.items():
        assert library not in theirs or place(module) in places, \
            f"{module} imports {library}, which belongs in {sorted(places)}"


def test_the_reading_order_is_the_order_of_the_chapters():
    # each chapter may import only the ones before it: read in order, nothing is used before
    # it is explained
    for k, chapter in enumerate(CHAPTERS):
        assert MAY_IMPORT[chapter] <= set(CHAPTERS[:k])


def test_the_table_catches_a_core_module_that_parses_flags(tmp_path):
    # the check above, on a planted file: a core module importing argparse and the CLI
    planted = tmp_path / "network.py"
    planted.write_text("import argparse\nfrom .commands import UsageError\n")
    ours, theirs = imports("network", planted)
    assert ours == {"commands"} and "argparse" in theirs
    assert place("commands") not in MAY_IMPORT["network"]
