"""Saving and loading a trained network: the ``purenet-model`` JSON file.

A model file is one JSON object (UTF-8, in practice plain ASCII):

    {
      "format": "purenet-model",
      "format_version": 1,
      "sizes": [n_in, n_hidden, n_out],
      "hyperparameters": {"lr": 0.1, "batch_size": 32, ...},
      "history": [{"epoch": 1, ...}, {"epoch": 2, ...}],
      "params": {
        "W1": [[...n_in numbers...], ... n_hidden rows ...],
        "b1": [...n_hidden numbers...],
        "W2": [[...n_hidden numbers...], ... n_out rows ...],
        "b2": [...n_out numbers...]
      },
      "training_state": {...} or null,
      "test_predictions": {                      (optional: see below)
        "data_sha256": "...", "params_sha256": "...",
        "predicted": [...one digit k per test image...],
        "p_predicted": [...the probability p_k of that digit...]
      }
    }

W1, b1, W2, b2 are the network's parameters as ``network.py`` names them:
z1 = W1 x + b1, h = relu(z1), z2 = W2 h + b2, p = softmax(z2).  Matrices are
lists of rows, so ``W1[i][j]`` is the weight from input pixel j to hidden
unit i.  ``hyperparameters`` and ``history`` (one object per finished epoch)
are written by the training command and only carried along here.
``training_state`` is what a resumed run needs (momentum velocities, random
generator state, epoch); it is opaque to this module and null in a model
that cannot be resumed.

``test_predictions`` is what the network said of each test image when
``purenet train`` finished, stamped with digests of the weights and of
the test set (predictions.py).  Checkpoints and older model files have
no such key, and a reader must not need it.

Reading a model in another language takes a few lines, e.g. NumPy:

    import json, numpy as np
    m = json.load(open("model.json"))
    W1, b1 = np.array(m["params"]["W1"]), np.array(m["params"]["b1"])
    W2, b2 = np.array(m["params"]["W2"]), np.array(m["params"]["b2"])
    z2 = W2 @ np.maximum(0, W1 @ (pixels / 255) + b1) + b2   # predicted digit: z2.argmax()

Numbers are written as Python's ``repr`` of each float (the shortest
decimal that reads back as the same float), so save -> load gives back
exactly the same bits.  Every number must be finite: NaN and infinity are
not JSON, and a network holding them is broken anyway.  Since the file is
JSON, tuples come back as lists and object keys must be strings.

Layout: one row of numbers to a line (json_text.py), so ``head model.json``
shows the hyperparameters and history, and each row of W1 is one line.
The test predictions come last, each of their two lists on one long line
(10,000 numbers each: 230 KB of the 9.2 MB file of a 784-512-10 network).

Writing is atomic (``write_json_atomic``, through atomic.py): the whole
text is built first, written to a temporary file beside the target,
flushed to disk, and then renamed over the target in one step.  A crash or an error at any point
leaves either the old file or the new one, never half of one.

Every number in the file must also fit a float (json_text.unfit_number):
a whole number of 400 digits or a 1e400 anywhere (weights, velocities,
epochs, history, hyperparameters, test predictions) is a ``ModelError``
naming where it is, e.g. "training_state.velocity.b2[0] is inf".

What is read is bounded too: only a regular file (not a named pipe, which
would wait forever, nor a device such as /dev/zero, which never ends:
files.py), and at most ``MAX_MODEL_BYTES``, checked before a byte is parsed.

Every problem with a file (including a test_predictions object whose
lists differ in length, or hold a digit outside 0..n_out-1 or a p outside
[0, 1]) is reported as a ``ModelError`` whose one-line message starts with
the file's name.  A model holding such an object is not written either.
"""

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .atomic import write_bytes_atomic
from .files import kind_of_mode
from .json_text import to_json_text, unfit_number, whole_number
from .matrix import Matrix, Vector
from .network import Params
from .predictions import StoredPredictions, check_predictions

class ModelError(Exception):
    """A model or checkpoint file cannot be used (its one-line message starts with the file's name)."""


FORMAT = "purenet-model"
FORMAT_VERSION = 1

Sizes = Tuple[int, int, int]
ExpectedSizes = Tuple[Optional[int], Optional[int], Optional[int]]
SIZE_NAMES = ("input size", "hidden width", "output size")

# The largest file a model can be.  purenet train allows at most 16,384
# hidden units (commands/_settings.py, MAX_HIDDEN), so the largest network is
# 784-16384-10, with 16,384 x 785 + 10 x 16,385 = 13,025,290 parameters;
# a checkpoint holds as many velocities again: 26,050,580 numbers.  Each is
# written as at most 24 characters (-1.2345678901234567e-308) and ", ":
# 26 bytes, so 677,315,080 bytes, plus under 1 MB of indentation and line
# breaks and the test predictions (about 23 bytes for each test image, 0.23
# MB for MNIST's 10,000).  Anything past 700 MB is not a purenet model,
# and is refused before it is read into memory.
MAX_MODEL_BYTES = 700_000_000

# A float holds at most sys.float_info.max = 1.797...e308, a whole number
# of 309 digits; one digit more can only be too large.


@dataclass
class Model:
    """A network's parameters plus how it was trained."""
    params: Params
    hyperparameters: Dict[str, Any] = field(default_factory=dict)
    history: List[Dict[str, Any]] = field(default_factory=list)
    training_state: Optional[Dict[str, Any]] = None
    test_predictions: Optional[StoredPredictions] = None


def check_outputs(path: str, p_by_image: Sequence[float], split: str = "test", start: int = 0
                  ) -> None:
    """ModelError at the first image n for which the model at path computed a p that is NaN.

    p_by_image[n] is a probability the network computed for image start + n.
    Finite weights can still be so large (1e300, say) that z2 = W2 h + b2
    overflows: inf - inf is NaN, and so is every p = softmax(z2) after it.
    A command then says so in one line rather than printing, drawing or
    ranking numbers that are not numbers.
    """
    for n, p in enumerate(p_by_image):
        if p != p:  # only NaN differs from itself
            raise ModelError(f"{path}: p = softmax(z2) is not a number for {split} image "
                             f"{start + n}: the weights are so large that z2 = W2 h + b2 "
                             "overflows (inf - inf)")


# --- writing ----------------------------------------------------------------

def write_json_atomic(path: str, obj: Any) -> None:
    """Replace the file at path with obj as JSON, all at once or not at all.

    The text is built before any file is touched, so a value that cannot be
    written (NaN, infinity, a non-JSON object) raises ModelError and leaves
    the old file alone.  The temporary file is removed on any failure.
    """
    try:
        data = (to_json_text(obj) + "\n").encode("ascii")
    except (ValueError, TypeError) as e:
        raise ModelError(f"{path}: not written: {_describe_unwritable(e)}") from None
    try:
        write_bytes_atomic(path, data)
    except OSError as e:
        raise _cannot_write(path, e) from None


def _describe_unwritable(e: Exception) -> str:
    text = str(e)
    if "Out of range float" in text:
        return "it contains NaN or infinity, which a model file cannot hold"
    return text


def _cannot_write(path: str, e: OSError) -> ModelError:
    return ModelError(f"{path}: cannot write: {e.strerror or e}")


def model_document(model: Model) -> Dict[str, Any]:
    """The JSON object a model is saved as (see the module docstring)."""
    params = model.params
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sizes": list(params.sizes),
        "hyperparameters": model.hyperparameters,
        "history": model.history,
        "params": {"W1": params.W1, "b1": params.b1, "W2": params.W2, "b2": params.b2},
        "training_state": model.training_state,
    }
    stored = model.test_predictions
    if stored is not None:
        # last, so that `head model.json` still shows the hyper-parameters first
        document["test_predictions"] = {
            "data_sha256": stored.data_sha256, "params_sha256": stored.params_sha256,
            "predicted": stored.predicted, "p_predicted": stored.p_predicted}
    return document


def save_model(path: str, model: Model) -> None:
    """Write model to path atomically; raise ModelError if it cannot be written."""
    try:
        model.params.check_shapes()
    except ValueError as e:
        raise ModelError(f"{path}: not written: {e}") from None
    document = model_document(model)
    if "test_predictions" in document:
        # never write what load_model would refuse
        try:
            check_predictions(document["test_predictions"], model.params.sizes[2])
        except ValueError as e:
            raise ModelError(f"{path}: not written: {e}") from None
    write_json_atomic(path, document)


# --- reading ----------------------------------------------------------------

def load_model(path: str, expect_sizes: Optional[ExpectedSizes] = None) -> Model:
    """Read and check a model file.

    expect_sizes = (n_in, n_hidden, n_out) makes a model of any other shape
    an error, e.g. when resuming training with a given --sizes.  An entry
    may be None for "any": (784, None, 10) accepts any hidden width.
    """
    document = _read_json(path)
    _check_format(path, document)
    unfit = unfit_number(document)
    if unfit:
        raise ModelError(f"{path}: {unfit}")
    sizes = _read_sizes(path, document)
    if expect_sizes is not None:
        _check_expected_sizes(path, sizes, expect_sizes)
    params = _read_params(path, document, sizes)
    return Model(
        params=params,
        hyperparameters=_read_field(path, document, "hyperparameters", dict, {}),
        history=_read_history(path, document),
        training_state=_read_field(path, document, "training_state", dict, None),
        test_predictions=_read_test_predictions(path, document, sizes[2]),
    )


def read_model_bytes(path: str) -> bytes:
    """The bytes of the model file at path: a regular file of at most MAX_MODEL_BYTES, or ModelError."""
    try:
        # stat before open: opening a named pipe to read would wait for a writer
        kind = kind_of_mode(os.stat(path).st_mode)
        if kind is not None:
            raise ModelError(f"{path}: cannot read: it is {kind}, not a file")
        with open(path, "rb") as f:
            # a file can grow between the stat and the read, so count what is read
            data = f.read(MAX_MODEL_BYTES + 1)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except OSError as e:
        raise ModelError(f"{path}: cannot read: {e.strerror or e}") from None
    except ValueError as e:  # a NUL byte in the path
        raise ModelError(f"{path!r}: cannot read: {e}") from None
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"{path}: not a purenet model (larger than {MAX_MODEL_BYTES:,} bytes, "
                         "the size of a checkpoint of the widest network purenet trains)")
    return data


def _read_json(path: str) -> Any:
    data = read_model_bytes(path)

    def refuse_constant(name: str) -> float:
        # Python's json module accepts NaN and Infinity, although JSON does not.
        raise ModelError(f"{path}: contains {name}; every number in a model file must be finite")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse_constant,
                          parse_int=whole_number)
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not a purenet model (not UTF-8 text, so not JSON)") from None
    except json.JSONDecodeError as e:
        raise ModelError(f"{path}: not a purenet model (not valid JSON: {e.msg} "
                         f"at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        # json reads each level of [[[...]]] with one recursive call
        raise ModelError(f"{path}: not a purenet model (JSON nested too deeply to read)") from None


def _check_format(path: str, document: Any) -> None:
    if not isinstance(document, dict) or "format" not in document:
        raise ModelError(f'{path}: not a purenet model (JSON without "format": "{FORMAT}")')
    if document["format"] != FORMAT:
        raise ModelError(f'{path}: not a purenet model (format is {document["format"]!r}, '
                         f'expected "{FORMAT}")')
    version = document.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelError(f"{path}: model format version {version!r} is not supported "
                         f"(this purenet reads version {FORMAT_VERSION})")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _read_sizes(path: str, document: Dict[str, Any]) -> Sizes:
    sizes = document.get("sizes")
    if not (isinstance(sizes, list) and len(sizes) == 3 and all(map(_is_count, sizes))):
        raise ModelError(f"{path}: \"sizes\" must be [n_in, n_hidden, n_out], "
                         f"three whole numbers of at least 1, not {sizes!r}")
    return sizes[0], sizes[1], sizes[2]


def _check_expected_sizes(path: str, sizes: Sizes, expect_sizes: ExpectedSizes) -> None:
    if len(expect_sizes) != len(SIZE_NAMES):
        raise ValueError(f"expect_sizes must be (n_in, n_hidden, n_out), not {expect_sizes!r}")
    for name, got, wanted in zip(SIZE_NAMES, sizes, expect_sizes):
        if wanted is not None and got != wanted:
            raise ModelError(f"{path}: model has {name} {got}, expected {wanted}")


def _read_params(path: str, document: Dict[str, Any], sizes: Sizes) -> Params:
    n_in, n_hidden, n_out = sizes
    params = document.get("params")
    if not isinstance(params, dict):
        raise ModelError(f'{path}: "params" must be an object holding W1, b1, W2, b2')
    return Params(
        W1=_read_matrix(path, params, "W1", n_hidden, n_in),
        b1=_read_vector(path, params, "b1", n_hidden),
        W2=_read_matrix(path, params, "W2", n_out, n_hidden),
        b2=_read_vector(path, params, "b2", n_out),
    )


def _read_matrix(path: str, params: Dict[str, Any], name: str, rows: int, cols: int) -> Matrix:
    """params[name] as a rows x cols Matrix of finite floats, or ModelError."""
    A = params.get(name)
    if not isinstance(A, list):
        raise ModelError(f"{path}: params.{name} is missing or not a list of rows")
    if len(A) != rows:
        raise ModelError(f"{path}: {name} has {len(A)} rows, sizes say {rows}")
    return [_numbers(path, f"{name}[{i}]", row, cols) for i, row in enumerate(A)]


def _read_vector(path: str, params: Dict[str, Any], name: str, n: int) -> Vector:
    if name not in params:
        raise ModelError(f"{path}: params.{name} is missing")
    return _numbers(path, name, params[name], n)


def _numbers(path: str, where: str, values: Any, n: int) -> Vector:
    """values as a list of n finite floats, or ModelError naming the bad entry."""
    if not isinstance(values, list):
        raise ModelError(f"{path}: {where} is not a list of numbers")
    if len(values) != n:
        raise ModelError(f"{path}: {where} has {len(values)} entries, sizes say {n}")
    # Every number is already known to fit a float (_check_numbers).  The
    # common case, all floats, is checked in bulk, since W1 alone holds about
    # 400,000 numbers; the slow path only finds the culprit or turns whole
    # numbers written by another tool into floats.
    if set(map(type, values)) <= {float}:
        return values
    for j, v in enumerate(values):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ModelError(f"{path}: {where}[{j}] is {v!r:.80}, not a number")
    return [float(v) for v in values]


def _read_field(path: str, document: Dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = document.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise ModelError(f'{path}: "{key}" must be a JSON {_JSON_NAMES[kind]} or null')
    return value


_JSON_NAMES = {dict: "object", list: "list"}


def _read_history(path: str, document: Dict[str, Any]) -> List[Dict[str, Any]]:
    history = _read_field(path, document, "history", list, [])
    if not all(isinstance(entry, dict) for entry in history):
        raise ModelError(f'{path}: "history" must be a list of objects, one per epoch')
    return history


def _read_test_predictions(path: str, document: Dict[str, Any], n_out: int
                           ) -> Optional[StoredPredictions]:
    stored = _read_field(path, document, "test_predictions", dict, None)
    if stored is None:
        return None
    try:
        check_predictions(stored, n_out)
    except ValueError as e:
        raise ModelError(f"{path}: {e}") from None
    return StoredPredictions(stored["data_sha256"], stored["params_sha256"],
                             stored["predicted"], [float(p) for p in stored["p_predicted"]])
