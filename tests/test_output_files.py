"""Where report and export-xlsx may write (commands/_files.py).

The rule: a path that does not exist, or holds a workbook purenet wrote, is
written; a pipe, device or directory never; another program's .xlsx only
with --overwrite; any other file never.  The refusals as a user meets them
are rows of test_catalogue.py; here each branch is specified on its own,
and the command that used to destroy a model is run for real.
"""

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from purenet.commands._files import check_output_file  # noqa: E402
from purenet.commands import UsageError  # noqa: E402
from purenet.model_io import Model, load_model, save_model  # noqa: E402
from purenet.network import he_init  # noqa: E402
from purenet.xlsx import written_by_purenet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OURS = REPO / "spreadsheets" / "long_form.xlsx"


def refusal(path, overwrite=False) -> str:
    with pytest.raises(UsageError) as caught:
        check_output_file(str(path), overwrite)
    return str(caught.value)


def workbook_by(creator: str, path: Path) -> Path:
    book = openpyxl.Workbook()
    book.properties.creator = creator
    book.save(path)
    return path


# --- recognising a workbook of ours ------------------------------------------------------

def test_the_committed_workbooks_are_recognised_as_purenets():
    for path in (REPO / "spreadsheets").glob("*.xlsx"):
        assert written_by_purenet(str(path)), path


@pytest.mark.parametrize("make", [
    lambda p: workbook_by("Alice", p),                       # another program's workbook
    lambda p: workbook_by("purenet-fan", p),                 # a creator that only starts alike
    lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"),  # damaged
    lambda p: p.write_text("my notes\n"),                    # not a zip at all
    lambda p: zipfile.ZipFile(p, "w").writestr("other.xml", "<dc:creator>purenet</dc:creator>"),
])
def test_anything_else_is_not(tmp_path, make):
    path = tmp_path / "book.xlsx"
    make(path)
    assert not written_by_purenet(str(path))


def test_a_missing_file_is_not(tmp_path):
    assert not written_by_purenet(str(tmp_path / "absent.xlsx"))


# --- the rule, branch by branch ----------------------------------------------------------------

def test_a_new_file_or_a_workbook_of_ours_may_be_written(tmp_path):
    check_output_file(str(tmp_path / "report.xlsx"), overwrite=False)
    check_output_file(str(OURS), overwrite=False)


def test_another_programs_workbook_needs_overwrite(tmp_path):
    path = workbook_by("Alice", tmp_path / "theirs.xlsx")
    assert refusal(path) == (f"--out {path}: exists and is not a workbook written by purenet; "
                             "give another name, or --overwrite to replace it")
    check_output_file(str(path), overwrite=True)
    check_output_file(str(path).replace(".xlsx", ".XLSX"), overwrite=True)   # missing: fine


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_file_that_is_not_a_workbook_is_never_replaced(tmp_path, overwrite):
    path = tmp_path / "model.json"
    save_model(str(path), Model(params=he_init((4, 3, 2), seed=0)))
    message = refusal(path, overwrite)
    if overwrite:
        assert message == (f"--out {path}: --overwrite replaces only an .xlsx file, and this one "
                           "is not a workbook; give another name")
    else:
        assert message == (f"--out {path}: exists and is not a workbook written by purenet; "
                           "give another name")


@pytest.mark.parametrize("kind, make", [
    ("a directory", os.mkdir),
    ("a named pipe (FIFO)", os.mkfifo),
    ("a character device", lambda p: os.symlink("/dev/null", p)),   # a link: never /dev/null itself
])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_path_that_is_not_a_regular_file_is_refused_even_with_overwrite(tmp_path, kind, make,
                                                                           overwrite):
    path = tmp_path / "out.xlsx"
    make(str(path))
    assert refusal(path, overwrite) == f"--out {path}: is {kind}, not a file; nothing is written to it"


# --- the command that replaced a trained model -------------------------------------------------

def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(str(path), Model(params=he_init((784, 4, 10), seed=2)))
    return path


def test_report_model_out_model_keeps_the_model(model_file, tiny_data):
    before = hashlib.sha256(model_file.read_bytes()).hexdigest()
    done = purenet("report", str(model_file), "--out", str(model_file), "--data-dir", str(tiny_data),
                   "--no-verify")
    assert done.returncode == 2
    assert done.stderr == (f"purenet: error: --out {model_file}: exists and is not a workbook "
                           "written by purenet; give another name\n")
    assert hashlib.sha256(model_file.read_bytes()).hexdigest() == before
    load_model(str(model_file))


def test_report_replaces_its_own_workbook_and_with_overwrite_another(model_file, tiny_data, tmp_path):
    out = tmp_path / "report.xlsx"
    args = ["report", str(model_file), "--out", str(out), "--data-dir", str(tiny_data), "--no-verify",
            "--limit", "10"]
    assert purenet(*args).returncode == 0
    first = out.read_bytes()
    again = purenet(*args)                                   # its own workbook: no flag needed
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == first
    workbook_by("Alice", out)
    assert purenet(*args).returncode == 2                    # someone else's: refused...
    assert not written_by_purenet(str(out))
    assert purenet(*args, "--overwrite").returncode == 0     # ...unless asked
    assert out.read_bytes() == first
