"""What a network said of each test image, stored with the model so that it need not be asked again.

``purenet train`` ends by classifying the 10,000 test images once: for
each image n, the predicted digit k_n = argmax p and its probability
p_k (how sure the network was).  model_io.py saves them in the model file
as ``test_predictions``, and ``purenet report`` reuses them instead of
classifying the images again (40 s to a minute in pure Python) -- but only
if they are this model's answers on this test set.  Two digests say what
they came from:

    params_sha256   SHA-256 of the exact weights (8 bytes per float)
    data_sha256     SHA-256 of the exact test images and labels

and ``reuse_problem`` compares both with what a reader has loaded, so a
model whose weights were edited, or another test set, never gets stale
answers.  ``check_predictions`` says what is wrong with a stored object
(lists of different lengths, a digit outside 0..n_out-1, a p outside
[0, 1]), so that such an object is neither read nor written.
"""

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from .network import Params


@dataclass
class StoredPredictions:
    """What a network said of each test image n, and digests of what it was computed from."""
    data_sha256: str            # data_sha256(images, labels) of the test set
    params_sha256: str          # params_sha256(params) of the network
    predicted: List[int]        # k_n = argmax p, the predicted digit of image n
    p_predicted: List[float]    # p_k of image n: how sure the network was of k_n


def params_sha256(params: Params) -> str:
    """SHA-256 of the sizes, then every number of W1, b1, W2, b2, row by row.

    Each number goes in as its 8 bytes (IEEE 754 double, little-endian), so
    a change of one ulp in one weight changes the digest, while a model
    read back from its file, whose floats round-trip exactly, gives the
    same digest as the one that was saved.
    """
    digest = hashlib.sha256("{} {} {}\n".format(*params.sizes).encode("ascii"))
    for row in [*params.W1, params.b1, *params.W2, params.b2]:
        digest.update(struct.pack(f"<{len(row)}d", *row))
    return digest.hexdigest()


def data_sha256(images: Sequence[bytes], labels: Sequence[int]) -> str:
    """SHA-256 of "count bytes\n", then every image's pixels in order, then every label as a byte."""
    pixels = b"".join(images)
    digest = hashlib.sha256(f"{len(images)} {len(pixels)}\n".encode("ascii"))
    digest.update(pixels)
    digest.update(bytes(labels))
    return digest.hexdigest()


def stored_predictions(params: Params, images: Sequence[bytes], labels: Sequence[int],
                       predicted: Sequence[int], p_predicted: Sequence[float]
                       ) -> StoredPredictions:
    """The predictions of `params` on the test set (images, labels), stamped with both digests."""
    return StoredPredictions(data_sha256(images, labels), params_sha256(params),
                             list(predicted), list(p_predicted))


def reuse_problem(model, images: Sequence[bytes], labels: Sequence[int]) -> Optional[str]:
    """None if model.test_predictions came from exactly these weights and test images.

    Otherwise why they cannot be used, as the end of a sentence that starts
    with the model file's name ("model.json holds no stored test predictions").
    """
    stored = model.test_predictions
    if stored is None:
        return "holds no stored test predictions"
    if len(stored.predicted) != len(labels):
        return (f"holds test predictions of {len(stored.predicted):,} images, "
                f"not of these {len(labels):,}")
    if stored.params_sha256 != params_sha256(model.params):
        return "holds test predictions of other weights (params_sha256 differs: edited since?)"
    if stored.data_sha256 != data_sha256(images, labels):
        return "holds test predictions of other test images (data_sha256 differs)"
    return None


_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_predictions(stored: Dict[str, Any], n_out: int) -> None:
    """ValueError naming the first thing wrong with a test_predictions object."""
    for key in ("data_sha256", "params_sha256", "predicted", "p_predicted"):
        if key not in stored:
            raise ValueError(f"test_predictions.{key} is missing")
    for key in ("data_sha256", "params_sha256"):
        value = stored[key]
        if not (isinstance(value, str) and _SHA256.fullmatch(value)):
            raise ValueError(f"test_predictions.{key} is {value!r:.80}, "
                             "not a SHA-256 digest (64 hex digits)")
    predicted, p_predicted = stored["predicted"], stored["p_predicted"]
    for key, value in (("predicted", predicted), ("p_predicted", p_predicted)):
        if not isinstance(value, list):
            raise ValueError(f"test_predictions.{key} is not a list")
    if len(predicted) != len(p_predicted):
        raise ValueError(f"test_predictions holds {len(predicted)} predicted digits "
                         f"but {len(p_predicted)} probabilities p_predicted")
    for n, k in enumerate(predicted):
        if not (is_whole(k) and k < n_out):
            raise ValueError(f"test_predictions.predicted[{n}] is {k!r}, "
                             f"not a class 0..{n_out - 1}")
    for n, p in enumerate(p_predicted):
        if not (isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1):
            raise ValueError(f"test_predictions.p_predicted[{n}] is {p!r}, "
                             "not a probability in [0, 1]")


def is_whole(value: Any) -> bool:
    """A whole number >= 0 read from JSON: an int, and not a bool (JSON true and false)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
