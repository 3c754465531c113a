"""model_io.py: the model file reads back bit for bit, is written atomically,
and every kind of bad file is refused with a one-line ModelError naming it."""

import copy
import hashlib
import json
import math
import os
import struct

import pytest

from purenet import atomic, json_text, model_io, predictions
from purenet.model_io import ModelError
from purenet.model_io import FORMAT, FORMAT_VERSION, Model, load_model, save_model, write_json_atomic
from purenet.network import Params, he_init

# Floats that a careless writer would not read back exactly.
AWKWARD = [0.1, -0.0, 1 / 3, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
           -123456.78901234567, 1e-7, 0.30000000000000004]


def small_model() -> Model:
    params = he_init((4, 3, 2), seed=7)
    params.W1[0] = AWKWARD[:4]
    params.b1 = AWKWARD[4:7]
    params.b2 = AWKWARD[7:9]
    velocity = {"W1": [[v / 7 for v in row] for row in params.W1], "b1": [-0.0, 1e-300, 2.5],
                "W2": [[1 / 3] * 3, [-2 / 3] * 3], "b2": [0.0, 5e-324]}
    return Model(params=params,
                 hyperparameters={"lr": 0.1, "batch_size": 32, "momentum": 0.9, "seed": 7,
                                  "schedule": "constant"},
                 history=[{"epoch": 1, "train_loss": 0.4, "test_accuracy": 0.91},
                          {"epoch": 2, "train_loss": 1 / 3, "test_accuracy": 0.93}],
                 training_state={"epoch": 2, "velocity": velocity,
                                 "rng_state": [3, [12345678901234567890, 2, 3], None]})


def bits(obj):
    """obj with every float replaced by its exact hex form, so == compares bits (-0.0 != 0.0)."""
    if isinstance(obj, float):
        return obj.hex()
    if isinstance(obj, dict):
        return {k: bits(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [bits(v) for v in obj]
    return obj


def as_document(model: Model):
    return bits({"params": vars(model.params), "hyperparameters": model.hyperparameters,
                 "history": model.history, "training_state": model.training_state})


def write_document(path, document) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def valid_document():
    return json.loads(json_text.to_json_text(model_io.model_document(small_model())))


# --- round trip ---------------------------------------------------------------

def test_save_then_load_gives_back_the_same_bits(tmp_path):
    model = small_model()
    path = str(tmp_path / "model.json")
    save_model(path, model)
    loaded = load_model(path)
    assert as_document(loaded) == as_document(model)
    assert loaded.params.sizes == (4, 3, 2)
    assert str(loaded.params.b1[0]) == "2.2250738585072014e-308"


def test_load_with_matching_expected_sizes(tmp_path):
    path = str(tmp_path / "model.json")
    save_model(path, small_model())
    assert load_model(path, expect_sizes=(4, 3, 2)).params.sizes == (4, 3, 2)
    assert load_model(path, expect_sizes=(4, None, 2)).params.sizes == (4, 3, 2)


def test_a_model_without_training_state_reads_back_none(tmp_path):
    path = str(tmp_path / "model.json")
    save_model(path, Model(params=he_init((2, 2, 2), seed=0)))
    loaded = load_model(path)
    assert loaded.training_state is None
    assert loaded.hyperparameters == {} and loaded.history == []


def test_the_file_is_the_documented_json_document(tmp_path):
    path = str(tmp_path / "model.json")
    model = small_model()
    save_model(path, model)
    with open(path) as f:
        document = json.load(f)
    assert list(document) == ["format", "format_version", "sizes", "hyperparameters",
                              "history", "params", "training_state"]
    assert document["format"] == "purenet-model" and document["format_version"] == 1
    assert document["sizes"] == [4, 3, 2]
    assert document["params"]["b2"] == [1e-7, 0.30000000000000004]
    # Layout: a flat list is one line, so each row of W1 is one line of the file.
    with open(path) as f:
        text = f.read()
    assert "      " + json.dumps(model.params.W1[2]) + "\n" in text


def test_to_json_text_puts_each_list_or_object_that_holds_one_on_lines_of_its_own():
    text = json_text.to_json_text({"a": [1.0, 2.0], "b": {"c": [[0.5], [1.5]]}, "d": []})
    assert text == ('{\n'
                    '  "a": [1.0, 2.0],\n'
                    '  "b": {\n'
                    '    "c": [\n'
                    '      [0.5],\n'
                    '      [1.5]\n'
                    '    ]\n'
                    '  },\n'
                    '  "d": []\n'
                    '}')
    assert json_text.to_json_text([[1.0], {"k": [2.0]}]) == \
        '[\n  [1.0],\n  {\n    "k": [2.0]\n  }\n]'


def test_unfit_number_names_where_the_number_is():
    inf = float("inf")
    assert json_text.unfit_number([1.0, inf]) == "[1] is inf; every number in a model file must be finite"
    assert json_text.unfit_number({"a": [[0.5], [-inf]]}) == \
        "a[1][0] is -inf; every number in a model file must be finite"
    assert json_text.unfit_number(inf) == " is inf; every number in a model file must be finite"
    assert json_text.unfit_number({"a": [0.5, 2], "b": {"c": None}}) is None


def test_to_json_text_reads_back_as_the_same_object():
    obj = {"a": [1, 2.5, None, True, "x"], "b": [[1.0], [], {}], "c": {}, "d": [],
           "e": {"f": {"g": [[0.1, -0.0]]}}, "t": (1, 2)}
    assert bits(json.loads(json_text.to_json_text(obj))) == bits(obj)


def test_saving_does_not_change_the_model(tmp_path):
    model = small_model()
    before = as_document(model)
    save_model(str(tmp_path / "model.json"), model)
    assert as_document(model) == before


def test_whole_numbers_written_by_another_tool_load_as_floats(tmp_path):
    document = valid_document()
    document["params"]["b2"] = [0, 1]
    loaded = load_model(write_document(tmp_path / "m.json", document))
    assert loaded.params.b2 == [0.0, 1.0]
    assert all(type(v) is float for v in loaded.params.b2)


# --- atomic writing -----------------------------------------------------------

def saved_old_file(tmp_path):
    path = str(tmp_path / "model.json")
    save_model(path, Model(params=he_init((2, 2, 2), seed=1)))
    with open(path, "rb") as f:
        return path, f.read()


def assert_untouched(tmp_path, path, old_bytes):
    with open(path, "rb") as f:
        assert f.read() == old_bytes
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_nan_or_inf_anywhere_is_refused_before_the_file_is_touched(tmp_path, bad):
    path, old = saved_old_file(tmp_path)
    model = small_model()
    model.training_state["velocity"]["b2"][1] = bad
    with pytest.raises(ModelError) as caught:
        save_model(path, model)
    assert str(caught.value) == (f"{path}: not written: it contains NaN or infinity, which a "
                                 "model file cannot hold")
    assert_untouched(tmp_path, path, old)


def test_a_nan_weight_is_refused(tmp_path):
    path, old = saved_old_file(tmp_path)
    model = small_model()
    model.params.W2[1][2] = float("nan")
    with pytest.raises(ModelError, match=r"model\.json: not written"):
        save_model(path, model)
    assert_untouched(tmp_path, path, old)


def test_a_value_json_cannot_hold_is_refused(tmp_path):
    path, old = saved_old_file(tmp_path)
    model = small_model()
    model.hyperparameters["sizes"] = {1, 2}
    with pytest.raises(ModelError, match="set is not JSON serializable"):
        save_model(path, model)
    assert_untouched(tmp_path, path, old)


def test_a_non_string_key_is_refused_since_it_would_not_read_back_the_same(tmp_path):
    path, old = saved_old_file(tmp_path)
    model = small_model()
    model.training_state = {1: "one"}
    with pytest.raises(ModelError, match="key 1 is not a string"):
        save_model(path, model)
    assert_untouched(tmp_path, path, old)


def test_inconsistent_params_are_refused(tmp_path):
    path, old = saved_old_file(tmp_path)
    params = he_init((4, 3, 2), seed=0)
    params.b1 = [0.0, 0.0]
    with pytest.raises(ModelError, match=r"model\.json: not written: inconsistent shapes"):
        save_model(path, Model(params=params))
    assert_untouched(tmp_path, path, old)


def failing(exception):
    def fail(*args, **kwargs):
        raise exception
    return fail


@pytest.mark.parametrize("function", ["replace", "fsync"])
def test_a_failing_disk_operation_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, function):
    path, old = saved_old_file(tmp_path)
    monkeypatch.setattr(atomic.os, function, failing(OSError(28, "No space left on device")))
    with pytest.raises(ModelError, match=r"model\.json: cannot write: No space left on device"):
        save_model(path, small_model())
    monkeypatch.undo()
    assert_untouched(tmp_path, path, old)


def test_an_interrupt_during_the_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path, old = saved_old_file(tmp_path)
    monkeypatch.setattr(atomic.os, "fsync", failing(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_model(path, small_model())
    monkeypatch.undo()
    assert_untouched(tmp_path, path, old)


def test_a_missing_directory_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="cannot write: No such file or directory"):
        save_model(str(tmp_path / "nowhere" / "model.json"), small_model())


def test_write_json_atomic_replaces_an_existing_file(tmp_path):
    path = str(tmp_path / "state.json")
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"b": [2.5]})
    with open(path) as f:
        assert json.load(f) == {"b": [2.5]}
    assert os.listdir(tmp_path) == ["state.json"]


# --- refusing bad files -------------------------------------------------------

def load_error(path, **kwargs) -> str:
    with pytest.raises(ModelError) as caught:
        load_model(str(path), **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ": ")
    return message


def test_missing_file(tmp_path):
    assert "no such model file" in load_error(tmp_path / "absent.json")


def test_a_directory_is_not_a_model(tmp_path):
    assert "cannot read" in load_error(tmp_path)


def test_a_path_through_a_file_gives_the_systems_reason(tmp_path):
    (tmp_path / "notes").write_text("a file, not a directory")
    path = tmp_path / "notes" / "model.json"
    assert load_error(path) == f"{path}: cannot read: Not a directory"


def test_json_nested_too_deeply_is_one_line(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert load_error(path) == f"{path}: not a purenet model (JSON nested too deeply to read)"


def test_metadata_that_is_null_or_missing_reads_as_empty(tmp_path):
    document = valid_document()
    document["hyperparameters"] = None
    del document["history"]
    loaded = load_model(write_document(tmp_path / "m.json", document))
    assert loaded.hyperparameters == {} and loaded.history == []


def test_not_json(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("W1 = [[0.1, 0.2]]\n")
    assert "not valid JSON: Expecting value at line 1 column 1" in load_error(path)


def test_a_truncated_file_is_not_json(tmp_path):
    path = tmp_path / "m.json"
    save_model(str(path), small_model())
    path.write_bytes(path.read_bytes()[:300])
    assert "not valid JSON" in load_error(path)


def test_binary_file_is_not_json(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    assert "not UTF-8 text" in load_error(path)


@pytest.mark.parametrize("document", [[1, 2, 3], {"name": "some other tool"}, "purenet-model"])
def test_json_without_a_format_is_another_tools(tmp_path, document):
    assert 'not a purenet model (JSON without "format"' in load_error(write_document(tmp_path / "m.json", document))


def test_json_of_another_format(tmp_path):
    document = valid_document()
    document["format"] = "keras-model"
    message = load_error(write_document(tmp_path / "m.json", document))
    assert "not a purenet model (format is 'keras-model', expected \"purenet-model\")" in message


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
def test_wrong_format_version(tmp_path, version):
    document = valid_document()
    document["format_version"] = version
    message = load_error(write_document(tmp_path / "m.json", document))
    assert f"model format version {version!r} is not supported (this purenet reads version 1)" in message


@pytest.mark.parametrize("sizes", [[4, 3], [4, 3, 0], [4, 3.0, 2], "4,3,2", None, [4, True, 2]])
def test_bad_sizes_field(tmp_path, sizes):
    document = valid_document()
    document["sizes"] = sizes
    assert '"sizes" must be [n_in, n_hidden, n_out]' in load_error(write_document(tmp_path / "m.json", document))


@pytest.mark.parametrize("change, message", [
    (lambda p: p["W1"].pop(), "W1 has 2 rows, sizes say 3"),
    (lambda p: p["W1"][1].pop(), "W1[1] has 3 entries, sizes say 4"),
    (lambda p: p["W1"][2].append(0.5), "W1[2] has 5 entries, sizes say 4"),
    (lambda p: p["W2"].append([0.0, 0.0, 0.0]), "W2 has 3 rows, sizes say 2"),
    (lambda p: p["W2"][0].pop(), "W2[0] has 2 entries, sizes say 3"),
    (lambda p: p["b1"].append(0.0), "b1 has 4 entries, sizes say 3"),
    (lambda p: p["b2"].pop(), "b2 has 1 entries, sizes say 2"),
    (lambda p: p.pop("b2"), "params.b2 is missing"),
    (lambda p: p.pop("W1"), "params.W1 is missing or not a list of rows"),
    (lambda p: p.update(W1=[1.0, 2.0, 3.0]), "W1[0] is not a list of numbers"),
    (lambda p: p.update(b1=0.0), "b1 is not a list of numbers"),
    (lambda p: p["W2"][1].__setitem__(2, "0.5"), "W2[1][2] is '0.5', not a number"),
    (lambda p: p["b1"].__setitem__(0, None), "b1[0] is None, not a number"),
    (lambda p: p["b1"].__setitem__(1, True), "b1[1] is True, not a number"),
    (lambda p: p["W1"][0].__setitem__(3, [0.1]), r"W1[0][3] is [0.1], not a number"),
])
def test_sizes_that_disagree_with_the_arrays_or_entries_that_are_not_numbers(tmp_path, change, message):
    document = valid_document()
    change(document["params"])
    assert message in load_error(write_document(tmp_path / "m.json", document))


def test_params_that_are_not_an_object(tmp_path):
    document = valid_document()
    document["params"] = [[0.1]]
    assert '"params" must be an object' in load_error(write_document(tmp_path / "m.json", document))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_the_file(tmp_path, literal):
    path = tmp_path / "m.json"
    text = json.dumps(valid_document())
    path.write_text(text.replace("0.30000000000000004", literal))
    assert f"contains {literal}; every number in a model file must be finite" in load_error(path)


def test_a_number_too_large_for_a_float_is_not_finite(tmp_path):
    # 1e999 is valid JSON, but reads as inf.
    path = tmp_path / "m.json"
    path.write_text(json.dumps(valid_document()).replace("0.30000000000000004", "1e999"))
    assert "params.b2[1] is inf; every number in a model file must be finite" in load_error(path)


# Numbers JSON holds and a float cannot, wherever they are: each names its place.
BIG = 10 ** 400


@pytest.mark.parametrize("place, edit", [
    ("params.W1[1][2]", lambda d: d["params"]["W1"][1].__setitem__(2, BIG)),
    ("sizes[0]", lambda d: d["sizes"].__setitem__(0, BIG)),
    ("hyperparameters.epochs", lambda d: d["hyperparameters"].__setitem__("epochs", BIG)),
    ("history[0].seconds", lambda d: d["history"][0].__setitem__("seconds", -BIG)),
    ("training_state.velocity.b1[0]",
     lambda d: d.__setitem__("training_state", {"velocity": {"b1": [BIG]}, "epoch": 1})),
    ("training_state.epoch", lambda d: d.__setitem__("training_state", {"epoch": BIG})),
])
def test_a_whole_number_too_large_for_a_float_is_named_where_it_is(tmp_path, place, edit):
    document = valid_document()
    document["hyperparameters"], document["history"] = {"epochs": 2}, [{"seconds": 1.5}]
    edit(document)
    message = load_error(write_document(tmp_path / "m.json", document))
    assert message.endswith(f": {place} is a whole number of 401 digits, too large for a float")


@pytest.mark.parametrize("text", ["1e400", "-1e400", "1.8e308"])
def test_a_decimal_too_large_for_a_float_anywhere_is_named_where_it_is(tmp_path, text):
    path = tmp_path / "m.json"
    document = valid_document()
    document["history"] = [{"epoch": 1, "train_loss": 12345.5}]
    path.write_text(json.dumps(document).replace("12345.5", text))
    assert f"history[0].train_loss is {float(text)!r}; every number in a model file must be " \
           "finite" in load_error(path)


@pytest.mark.parametrize("digits", [310, 4300, 5000, 100_000])
def test_a_whole_number_of_too_many_digits_is_refused_before_int_reads_it(tmp_path, digits):
    # past 4,300 digits int() itself refuses the text on Python 3.11+ (ValueError)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(valid_document()).replace('"sizes": [4', '"sizes": [' + "7" * digits))
    assert load_error(path).endswith(f": sizes[0] is a whole number of {digits:,} digits, "
                                     "too large for a float")


def test_the_largest_whole_number_a_float_holds_is_accepted(tmp_path):
    document = valid_document()
    document["hyperparameters"] = {"big": int(1.7976931348623157e308), "one_more": 10 ** 308}
    loaded = load_model(write_document(tmp_path / "m.json", document))
    assert loaded.hyperparameters["big"] == int(1.7976931348623157e308)
    assert json_text.MAX_INT_DIGITS == 309
    assert json_text.fits_a_float(int(1.7976931348623157e308))
    assert not json_text.fits_a_float(int(1.7976931348623157e308) * 2)


# --- what is read: a regular file of plausible size ---------------------------

def test_a_model_file_larger_than_any_model_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    path = write_document(tmp_path / "m.json", valid_document())
    size = os.path.getsize(path)
    monkeypatch.setattr(model_io, "MAX_MODEL_BYTES", size)
    assert load_model(path).params.sizes == (4, 3, 2)             # exactly the bound: read
    monkeypatch.setattr(model_io, "MAX_MODEL_BYTES", size - 1)
    assert load_error(path) == (f"{path}: not a purenet model (larger than {size - 1:,} bytes, "
                                "the size of a checkpoint of the widest network purenet trains)")


def test_a_huge_file_is_refused_having_read_no_more_than_the_bound(tmp_path, monkeypatch,
                                                                   peak_bytes):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(64 << 20)                # 64 MiB of zeros, sparse: nothing on the disk
    monkeypatch.setattr(model_io, "MAX_MODEL_BYTES", 1000)
    messages = []
    peak = peak_bytes(lambda: messages.append(load_error(path)))
    assert "larger than 1,000 bytes" in messages[0]
    assert peak < 1 << 20                   # reading it all would take 64 MiB


def test_the_size_bound_holds_the_widest_checkpoint_purenet_can_save():
    from purenet.commands._settings import MAX_HIDDEN
    n_in, n_out = 784, 10
    parameters = MAX_HIDDEN * (n_in + 1) + n_out * (MAX_HIDDEN + 1)
    longest_number = len(repr(-1.2345678901234567e-308)) + len(", ")
    assert 2 * parameters * longest_number < model_io.MAX_MODEL_BYTES


@pytest.mark.parametrize("kind, make", [
    ("a named pipe (FIFO)", os.mkfifo),
    ("a directory", os.mkdir),
])
def test_a_model_path_that_is_not_a_regular_file_is_refused_without_opening_it(tmp_path, kind, make):
    path = tmp_path / "model.json"
    make(path)
    assert load_error(path) == f"{path}: cannot read: it is {kind}, not a file"


def test_a_link_to_a_device_is_the_device(tmp_path):
    path = tmp_path / "model.json"
    path.symlink_to("/dev/zero")       # read, it would never end
    assert load_error(path) == f"{path}: cannot read: it is a character device, not a file"


@pytest.mark.parametrize("expect, message", [
    ((4, 5, 2), "model has hidden width 3, expected 5"),
    ((784, 3, 2), "model has input size 4, expected 784"),
    ((4, 3, 10), "model has output size 2, expected 10"),
    ((None, None, 10), "model has output size 2, expected 10"),
])
def test_expected_sizes_mismatch(tmp_path, expect, message):
    path = tmp_path / "m.json"
    save_model(str(path), small_model())
    assert message in load_error(path, expect_sizes=expect)


@pytest.mark.parametrize("key, value, message", [
    ("hyperparameters", [0.1], '"hyperparameters" must be a JSON object or null'),
    ("history", {"epoch": 1}, '"history" must be a JSON list or null'),
    ("history", [{"epoch": 1}, 2], '"history" must be a list of objects'),
    ("training_state", "resume me", '"training_state" must be a JSON object or null'),
])
def test_metadata_of_the_wrong_kind(tmp_path, key, value, message):
    document = valid_document()
    document[key] = value
    assert message in load_error(write_document(tmp_path / "m.json", document))


def test_a_one_unit_network_round_trips_with_the_published_constants(tmp_path):
    path = str(tmp_path / "m.json")
    save_model(path, Model(params=Params(W1=[[0.5]], b1=[0.0], W2=[[1.0]], b2=[0.0])))
    with open(path) as f:
        document = json.load(f)
    assert (document["format"], document["format_version"]) == (FORMAT, FORMAT_VERSION)
    assert load_model(path).params == Params(W1=[[0.5]], b1=[0.0], W2=[[1.0]], b2=[0.0])


# --- stored test predictions ----------------------------------------------------
# A 4-3-2 network "classifies" three 4-pixel images; the model file keeps its
# answers with digests of the weights and of the images, for purenet report.

IMAGES = [bytes([0, 255, 10, 0]), bytes([9, 0, 200, 7]), bytes([0, 128, 90, 33])]
LABELS = [1, 0, 1]


def with_predictions() -> Model:
    model = small_model()
    model.test_predictions = predictions.stored_predictions(
        model.params, IMAGES, LABELS, [1, 0, 0], [0.75, 0.5, 1 / 3])
    return model


def nudged(params: Params, name: str) -> Params:
    """params with the first number of W1, b1, W2 or b2 moved by one ulp."""
    changed = copy.deepcopy(params)
    values = getattr(changed, name)
    row = values[0] if isinstance(values[0], list) else values
    row[0] = math.nextafter(row[0], math.inf)
    return changed


def test_stored_predictions_read_back_exactly_and_come_last(tmp_path):
    path = str(tmp_path / "model.json")
    model = with_predictions()
    save_model(path, model)
    loaded = load_model(path)
    assert loaded.test_predictions == model.test_predictions
    assert bits(loaded.test_predictions.p_predicted) == bits([0.75, 0.5, 1 / 3])
    assert as_document(loaded) == as_document(model)
    with open(path) as f:
        document = json.load(f)
    assert list(document)[-1] == "test_predictions"
    assert list(document["test_predictions"]) == ["data_sha256", "params_sha256",
                                                  "predicted", "p_predicted"]


def test_params_digest_is_the_same_after_a_round_trip(tmp_path):
    path = str(tmp_path / "model.json")
    model = small_model()
    save_model(path, model)
    assert predictions.params_sha256(load_model(path).params) == predictions.params_sha256(model.params)
    assert predictions.params_sha256(model.params) == predictions.params_sha256(copy.deepcopy(model.params))


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_params_digest_changes_when_one_number_moves_one_ulp(name):
    params = small_model().params
    assert predictions.params_sha256(nudged(params, name)) != predictions.params_sha256(params)


def test_params_digest_tells_minus_zero_from_zero_and_shapes_apart():
    params = Params(W1=[[0.0, 1.0]], b1=[0.0], W2=[[1.0], [2.0]], b2=[0.0, 0.0])
    minus = copy.deepcopy(params)
    minus.b1 = [-0.0]
    assert predictions.params_sha256(minus) != predictions.params_sha256(params)
    # the same numbers in the same order, but a 1-2-1 network instead of a 2-1-2 one
    other = Params(W1=[[0.0], [1.0]], b1=[0.0, 1.0], W2=[[2.0, 0.0]], b2=[0.0])
    assert predictions.params_sha256(other) != predictions.params_sha256(params)


def test_data_digest_changes_with_one_pixel_or_one_label():
    digest = predictions.data_sha256(IMAGES, LABELS)
    assert predictions.data_sha256(list(IMAGES), list(LABELS)) == digest
    # "count bytes\n", the pixels in order, then each label as a byte
    pixels = b"".join(IMAGES)
    assert digest == hashlib.sha256(f"{len(IMAGES)} {len(pixels)}\n".encode() + pixels
                                    + bytes(LABELS)).hexdigest()
    one_pixel = [IMAGES[0], bytes([9, 0, 201, 7]), IMAGES[2]]
    assert predictions.data_sha256(one_pixel, LABELS) != digest
    assert predictions.data_sha256(IMAGES, [1, 0, 2]) != digest
    assert predictions.data_sha256(IMAGES[:2], LABELS[:2]) != digest


def test_reuse_problem_says_when_the_predictions_are_not_the_models_own():
    model = with_predictions()
    assert predictions.reuse_problem(model, IMAGES, LABELS) is None
    assert predictions.reuse_problem(small_model(), IMAGES, LABELS) == \
        "holds no stored test predictions"
    assert predictions.reuse_problem(model, IMAGES[:2], LABELS[:2]) == \
        "holds test predictions of 3 images, not of these 2"
    edited = Model(params=nudged(model.params, "b2"), test_predictions=model.test_predictions)
    assert predictions.reuse_problem(edited, IMAGES, LABELS) == \
        "holds test predictions of other weights (params_sha256 differs: edited since?)"
    assert predictions.reuse_problem(model, IMAGES, [1, 0, 0]) == \
        "holds test predictions of other test images (data_sha256 differs)"


def test_params_digest_is_the_documented_sha256():
    # "n_in n_hidden n_out\n", then W1, b1, W2, b2 row by row, 8 little-endian bytes a number
    params = Params(W1=[[0.5, -1.0]], b1=[0.25], W2=[[2.0], [-0.0]], b2=[1e-300, 3.0])
    text = b"2 1 2\n" + struct.pack("<7d", 0.5, -1.0, 0.25, 2.0, -0.0, 1e-300, 3.0)
    assert predictions.params_sha256(params) == hashlib.sha256(text).hexdigest()


def test_check_outputs_names_the_first_image_whose_p_is_not_a_number():
    model_io.check_outputs("m.json", [0.5, 1.0, 0.0])            # all numbers: nothing to say
    with pytest.raises(ModelError) as caught:
        model_io.check_outputs("m.json", [0.5, float("nan"), float("nan")], "train", start=10)
    assert str(caught.value) == ("m.json: p = softmax(z2) is not a number for train image 11: "
                                 "the weights are so large that z2 = W2 h + b2 overflows "
                                 "(inf - inf)")
    with pytest.raises(ModelError, match="for test image 0: "):
        model_io.check_outputs("m.json", [float("nan")])


def test_a_file_without_test_predictions_still_loads(tmp_path):
    document = json.loads(json_text.to_json_text(model_io.model_document(with_predictions())))
    del document["test_predictions"]
    assert load_model(write_document(tmp_path / "m.json", document)).test_predictions is None
    document["test_predictions"] = None
    assert load_model(write_document(tmp_path / "m.json", document)).test_predictions is None


def predictions_document():
    return json.loads(json_text.to_json_text(model_io.model_document(with_predictions())))


@pytest.mark.parametrize("change, message", [
    (lambda t: t["predicted"].pop(), "holds 2 predicted digits but 3 probabilities"),
    (lambda t: t["p_predicted"].append(0.5), "holds 3 predicted digits but 4 probabilities"),
    (lambda t: t["predicted"].__setitem__(1, 2), "predicted[1] is 2, not a class 0..1"),
    (lambda t: t["predicted"].__setitem__(0, -1), "predicted[0] is -1, not a class 0..1"),
    (lambda t: t["predicted"].__setitem__(2, 1.0), "predicted[2] is 1.0, not a class 0..1"),
    (lambda t: t["predicted"].__setitem__(2, True), "predicted[2] is True, not a class 0..1"),
    (lambda t: t["p_predicted"].__setitem__(0, 1.5), "p_predicted[0] is 1.5, not a probability in [0, 1]"),
    (lambda t: t["p_predicted"].__setitem__(1, -0.25), "p_predicted[1] is -0.25, not a probability"),
    (lambda t: t["p_predicted"].__setitem__(2, "0.5"), "p_predicted[2] is '0.5', not a probability"),
    (lambda t: t["p_predicted"].__setitem__(2, None), "p_predicted[2] is None, not a probability"),
    (lambda t: t.update(predicted=3), "test_predictions.predicted is not a list"),
    (lambda t: t.update(p_predicted={}), "test_predictions.p_predicted is not a list"),
    (lambda t: t.pop("p_predicted"), "test_predictions.p_predicted is missing"),
    (lambda t: t.pop("data_sha256"), "test_predictions.data_sha256 is missing"),
    (lambda t: t.update(params_sha256="abc"), "params_sha256 is 'abc', not a SHA-256 digest"),
    (lambda t: t.update(data_sha256=None), "data_sha256 is None, not a SHA-256 digest"),
])
def test_damaged_test_predictions_are_refused(tmp_path, change, message):
    document = predictions_document()
    change(document["test_predictions"])
    assert message in load_error(write_document(tmp_path / "m.json", document))


def test_test_predictions_that_are_not_an_object(tmp_path):
    document = predictions_document()
    document["test_predictions"] = [1, 0, 0]
    assert '"test_predictions" must be a JSON object or null' in \
        load_error(write_document(tmp_path / "m.json", document))


def test_infinite_p_in_the_file_is_refused(tmp_path):
    path = tmp_path / "m.json"
    text = json.dumps(predictions_document()).replace("0.75", "1e999")
    path.write_text(text)
    assert "test_predictions.p_predicted[0] is inf; every number in a model file must be finite" \
        in load_error(path)


def test_whole_number_probabilities_load_as_floats(tmp_path):
    document = predictions_document()
    document["test_predictions"]["p_predicted"] = [1, 0, 0.5]
    loaded = load_model(write_document(tmp_path / "m.json", document))
    assert [type(p) for p in loaded.test_predictions.p_predicted] == [float] * 3


@pytest.mark.parametrize("predicted, p_predicted, message", [
    ([1, 0], [0.75, 0.5, 0.25], "holds 2 predicted digits but 3 probabilities"),
    ([1, 0, 5], [0.75, 0.5, 0.25], "predicted[2] is 5, not a class 0..1"),
    ([1, 0, 0], [0.75, float("nan"), 0.25], "p_predicted[1] is nan, not a probability"),
])
def test_damaged_test_predictions_are_not_written(tmp_path, predicted, p_predicted, message):
    path, old = saved_old_file(tmp_path)
    model = with_predictions()
    model.test_predictions.predicted = predicted
    model.test_predictions.p_predicted = p_predicted
    with pytest.raises(ModelError, match=r"model\.json: not written: ") as caught:
        save_model(path, model)
    assert message in str(caught.value)
    assert_untouched(tmp_path, path, old)


def test_a_whole_number_of_309_digits_above_the_largest_float_is_refused(tmp_path):
    document = valid_document()
    document["hyperparameters"] = {"epochs": 2 * 10 ** 308}       # 309 digits, > 1.797e308
    assert load_error(write_document(tmp_path / "m.json", document)).endswith(
        ": hyperparameters.epochs is a whole number of 309 digits, too large for a float")


def test_a_path_with_a_nul_byte_is_one_line():
    with pytest.raises(ModelError, match=r"^'a\\x00b.json': cannot read: .*null"):
        load_model("a\0b.json")


def test_expect_sizes_must_name_all_three_sizes(tmp_path):
    path = write_document(tmp_path / "m.json", valid_document())
    with pytest.raises(ValueError, match="expect_sizes must be"):
        load_model(path, expect_sizes=(4, 3))
