"""purenet.mnist: IDX files are read exactly, and every broken file is named with its fault."""

import gzip
import hashlib
import os
import shutil
import struct
import zlib
from collections import Counter

import pytest

from purenet import mnist
from purenet.mnist import (BUNDLED_DIR, FILES, IMAGES_HEADER, IMAGES_MAGIC, LABELS_MAGIC, MAX_EXTRA,
                           MAX_IDX_BYTES, DataError, Dataset, check_image_size, expected_sha256,
                           load_mnist, parse_images, parse_labels, read_checksums, read_idx,
                           read_images, read_labels, train_val_split)
from purenet.network import to_vector

TRAIN_IMAGES, TRAIN_LABELS = FILES["train"]
TEST_IMAGES, TEST_LABELS = FILES["test"]

# three 2x3 images and their labels: small enough to check byte by byte
ROWS, COLS = 2, 3
PIXELS = [bytes([0, 1, 2, 3, 4, 5]), bytes([255, 254, 253, 0, 0, 0]), bytes([9, 8, 7, 6, 5, 4])]
LABELS = [3, 0, 9]


def idx_images(images, rows=ROWS, cols=COLS, magic=IMAGES_MAGIC, count=None):
    count = len(images) if count is None else count
    return struct.pack(">IIII", magic, count, rows, cols) + b"".join(images)


def idx_labels(labels, magic=LABELS_MAGIC, count=None):
    count = len(labels) if count is None else count
    return struct.pack(">II", magic, count) + bytes(labels)


def write_gz(path, raw):
    path.write_bytes(gzip.compress(raw))


def write_split(directory, images_raw=None, labels_raw=None):
    """The train split's two files in directory, good ones unless told otherwise."""
    write_gz(directory / TRAIN_IMAGES, idx_images(PIXELS) if images_raw is None else images_raw)
    write_gz(directory / TRAIN_LABELS, idx_labels(LABELS) if labels_raw is None else labels_raw)


def load_error(directory, verify=False):
    with pytest.raises(DataError) as info:
        load_mnist("train", data_dir=str(directory), verify=verify)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- small files written by the tests ----------------------------------------

def test_good_files_load_exactly(tmp_path):
    write_split(tmp_path)
    data = load_mnist("train", data_dir=str(tmp_path), verify=False)
    assert data.images == PIXELS
    assert data.labels == LABELS
    assert (data.rows, data.cols) == (ROWS, COLS)
    assert len(data) == 3


def test_images_are_bytes_objects_not_lists(tmp_path):
    write_split(tmp_path)
    data = load_mnist("train", data_dir=str(tmp_path), verify=False)
    assert all(type(image) is bytes for image in data.images)


def test_matching_checksum_passes_and_other_checksum_fails(tmp_path):
    raw = idx_images(PIXELS)
    write_gz(tmp_path / TRAIN_IMAGES, raw)
    path = str(tmp_path / TRAIN_IMAGES)
    images, _, _ = read_images(path, sha256=hashlib.sha256(raw).hexdigest())
    assert images == PIXELS
    with pytest.raises(DataError, match=f"^{TRAIN_IMAGES}: checksum mismatch"):
        read_images(path, sha256="0" * 64)


def test_user_files_are_checked_against_the_bundled_checksums(tmp_path):
    # the small files are valid IDX but not MNIST, so their SHA-256 differs
    write_split(tmp_path)
    message = load_error(tmp_path, verify=True)
    assert message.startswith(f"{TRAIN_IMAGES}: checksum mismatch")


def test_verify_false_skips_the_checksum(tmp_path):
    write_split(tmp_path)
    assert load_mnist("train", data_dir=str(tmp_path), verify=False).labels == LABELS


def test_a_copy_of_real_mnist_in_a_user_directory_verifies(tmp_path):
    for name in FILES["test"]:
        shutil.copy(f"{BUNDLED_DIR}/{name}", tmp_path / name)
    data = load_mnist("test", data_dir=str(tmp_path), verify=True)
    assert len(data) == 10000


def test_truncated_images_give_the_byte_count(tmp_path):
    raw = idx_images(PIXELS)  # 16 + 3*6 = 34 bytes
    write_split(tmp_path, images_raw=raw[:30])
    message = load_error(tmp_path)
    assert message.startswith(f"{TRAIN_IMAGES}: truncated at byte 30 of 34")
    assert "3 images of 2x3 pixels" in message


def test_extra_bytes_are_an_error(tmp_path):
    write_split(tmp_path, images_raw=idx_images(PIXELS) + b"\x00\x00\x07")
    assert load_error(tmp_path).startswith(f"{TRAIN_IMAGES}: 3 extra bytes after the 34")


def test_truncated_label_file(tmp_path):
    write_split(tmp_path, labels_raw=idx_labels(LABELS)[:10])  # 8 + 3 = 11 bytes
    assert load_error(tmp_path) == (f"{TRAIN_LABELS}: truncated at byte 10 of 11 "
                                    "(the header promises 3 labels)")


def test_truncated_header(tmp_path):
    write_split(tmp_path, images_raw=idx_images(PIXELS)[:7])
    assert load_error(tmp_path) == f"{TRAIN_IMAGES}: truncated at byte 7 of its 16-byte header"


def test_label_file_in_place_of_images_has_the_wrong_magic(tmp_path):
    write_split(tmp_path, images_raw=idx_labels(LABELS))
    assert load_error(tmp_path) == (
        f"{TRAIN_IMAGES}: magic 0x00000801, expected 0x00000803 (an IDX image file)")


def test_wrong_magic_in_label_file(tmp_path):
    write_split(tmp_path, labels_raw=idx_labels(LABELS, magic=0x00000802))
    assert load_error(tmp_path) == (
        f"{TRAIN_LABELS}: magic 0x00000802, expected 0x00000801 (an IDX label file)")


def test_zero_sized_images_are_rejected(tmp_path):
    write_split(tmp_path, images_raw=idx_images([], rows=0, cols=28, count=5))
    assert "5 images of 0x28 pixels" in load_error(tmp_path)


def test_count_mismatch_between_images_and_labels(tmp_path):
    write_split(tmp_path, labels_raw=idx_labels(LABELS[:2]))
    assert load_error(tmp_path) == f"{TRAIN_LABELS}: 2 labels for 3 images in {TRAIN_IMAGES}"


def test_label_above_9_is_named_with_its_index(tmp_path):
    write_split(tmp_path, labels_raw=idx_labels([3, 12, 9]))
    assert load_error(tmp_path) == f"{TRAIN_LABELS}: label 12 at index 1 is not a digit 0..9"
    write_split(tmp_path, labels_raw=idx_labels([3, 9, 10]))      # 10 is the first non-digit
    assert load_error(tmp_path) == f"{TRAIN_LABELS}: label 10 at index 2 is not a digit 0..9"


def test_a_label_file_of_no_labels_is_refused(tmp_path):
    write_split(tmp_path, labels_raw=idx_labels([]))
    assert load_error(tmp_path) == f"{TRAIN_LABELS}: the header says 0 labels"


def test_one_image_of_one_pixel_with_one_label_is_a_data_set(tmp_path):
    write_split(tmp_path, images_raw=idx_images([bytes([7])], rows=1, cols=1),
                labels_raw=idx_labels([4]))
    data = load_mnist("train", data_dir=str(tmp_path), verify=False)
    assert (data.images, data.labels, data.rows, data.cols) == ([bytes([7])], [4], 1, 1)


def test_parse_checks_the_magic_and_the_header_of_the_bytes_it_is_given():
    # (read_idx checks them while reading; parse_* also take bytes from elsewhere)
    assert parse_images("a", idx_images(PIXELS)) == (PIXELS, ROWS, COLS)
    for parse, raw, message in (
            (parse_images, idx_labels(LABELS), "a: magic 0x00000801, expected 0x00000803 "
                                               "(an IDX image file)"),
            (parse_images, idx_images(PIXELS)[:9], "a: truncated at byte 9 of its 16-byte header"),
            (parse_labels, idx_images(PIXELS), "a: magic 0x00000803, expected 0x00000801 "
                                               "(an IDX label file)"),
            (parse_labels, idx_labels(LABELS)[:6], "a: truncated at byte 6 of its 8-byte header")):
        with pytest.raises(DataError) as info:
            parse("a", raw)
        assert str(info.value) == message


def test_truncated_gzip(tmp_path):
    write_split(tmp_path)
    compressed = (tmp_path / TRAIN_IMAGES).read_bytes()
    (tmp_path / TRAIN_IMAGES).write_bytes(compressed[:len(compressed) // 2])
    message = load_error(tmp_path)
    assert message.startswith(f"{TRAIN_IMAGES}: ")
    assert "truncated" in message


def test_not_gzip_at_all(tmp_path):
    write_split(tmp_path)
    (tmp_path / TRAIN_IMAGES).write_bytes(idx_images(PIXELS))  # IDX, but never compressed
    assert load_error(tmp_path).startswith(f"{TRAIN_IMAGES}: not a valid gzip file")


def test_missing_label_file(tmp_path):
    write_gz(tmp_path / TRAIN_IMAGES, idx_images(PIXELS))
    assert load_error(tmp_path) == f"{TRAIN_LABELS}: not found in {tmp_path}"


def test_empty_directory(tmp_path):
    assert load_error(tmp_path) == (f"{tmp_path}: the directory is empty "
                                    f"(expected {TRAIN_IMAGES}, {TRAIN_LABELS})")


def test_a_file_name_without_a_directory_is_looked_for_in_the_current_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as info:
        read_images(TRAIN_IMAGES)
    assert str(info.value) == f"{TRAIN_IMAGES}: not found in ."


def test_a_path_through_a_file_gives_the_systems_reason(tmp_path):
    (tmp_path / "notes").write_text("a file, not a directory")
    with pytest.raises(DataError) as info:
        read_labels(str(tmp_path / "notes" / TRAIN_LABELS))
    assert str(info.value) == f"{TRAIN_LABELS}: cannot read it (Not a directory)"


def test_directory_that_does_not_exist(tmp_path):
    assert load_error(tmp_path / "nowhere") == f"{tmp_path / 'nowhere'}: not a directory"


def test_unknown_split_is_a_usage_error():
    with pytest.raises(ValueError) as info:
        load_mnist("validation")
    assert str(info.value) == "unknown split 'validation': expected one of train, test"


# --- checksums ------------------------------------------------------------------------

def test_a_checksum_mismatch_names_the_file_and_both_digests_first_16_digits(tmp_path):
    raw = idx_labels(LABELS)
    write_gz(tmp_path / TRAIN_LABELS, raw)
    with pytest.raises(DataError) as info:
        read_labels(str(tmp_path / TRAIN_LABELS), sha256="ABCDEF0123456789" * 4)
    assert str(info.value) == (
        f"{TRAIN_LABELS}: checksum mismatch: the decompressed bytes have SHA-256 "
        f"{hashlib.sha256(raw).hexdigest()[:16]}..., SHA256SUMS says ABCDEF0123456789... "
        "(--no-verify skips this check)")
    assert read_labels(str(tmp_path / TRAIN_LABELS), hashlib.sha256(raw).hexdigest().upper()) \
        == LABELS                                       # hex digits in either case


def test_user_files_are_verified_unless_told_not_to(tmp_path):
    write_split(tmp_path)
    with pytest.raises(DataError, match=f"^{TRAIN_IMAGES}: checksum mismatch"):
        load_mnist("train", data_dir=str(tmp_path))


def test_the_labels_are_verified_too(tmp_path):
    # MNIST's own test images, with one label changed
    shutil.copy(f"{BUNDLED_DIR}/{TEST_IMAGES}", tmp_path / TEST_IMAGES)
    labels = load_mnist("test").labels
    labels[0] = (labels[0] + 1) % 10
    write_gz(tmp_path / TEST_LABELS, idx_labels(labels))
    with pytest.raises(DataError, match=f"^{TEST_LABELS}: checksum mismatch"):
        load_mnist("test", data_dir=str(tmp_path))
    assert load_mnist("test", data_dir=str(tmp_path), verify=False).labels == labels


def test_checksums_are_read_in_sha256sum_format(tmp_path):
    path = tmp_path / "SHA256SUMS"
    path.write_text("ab12  plain-name\ncd34 *binary-name\nef56 *Xray-name\n"
                    "not a line of two fields\n", encoding="ascii")
    assert read_checksums(str(path)) == {"plain-name": "ab12", "binary-name": "cd34",
                                         "Xray-name": "ef56"}   # only the one "*" is stripped


def test_checksums_that_are_not_ascii_are_refused(tmp_path):
    path = tmp_path / "SHA256SUMS"
    path.write_bytes("ab12  caf\u00e9\n".encode("utf-8"))
    with pytest.raises(DataError) as info:
        read_checksums(str(path))
    assert str(info.value).startswith(f"{path}: cannot read the checksums ('ascii' codec can't")


def test_the_checksum_of_a_gz_file_is_that_of_its_decompressed_name():
    sums = {"x-idx3-ubyte": "ab12", "y.bin": "cd34"}
    assert expected_sha256(sums, "x-idx3-ubyte.gz") == "ab12"
    assert expected_sha256(sums, "y.bin") == "cd34"             # no .gz: the name itself
    with pytest.raises(DataError) as info:
        expected_sha256(sums, "z-idx1-ubyte.gz")
    assert str(info.value) == ("z-idx1-ubyte.gz: no checksum for z-idx1-ubyte in the bundled "
                               "SHA256SUMS")


def test_images_of_another_size_than_the_networks_input_are_refused():
    data = Dataset(images=[bytes(6)], labels=[0], rows=2, cols=3)
    check_image_size(data, "test", 6)                           # fits: nothing to say
    with pytest.raises(DataError) as info:
        check_image_size(data, "test", 784)
    assert str(info.value) == (f"{TEST_IMAGES}: images of 2x3 = 6 pixels, but the network "
                               "takes 784")


# --- to_vector ------------------------------------------------------------------

def test_to_vector_scales_pixels_to_zero_one():
    assert to_vector(bytes([0, 51, 255])) == [0.0, 0.2, 1.0]


def test_to_vector_is_pixel_over_255_for_every_value():
    x = to_vector(bytes(range(256)))
    assert x == [pixel / 255 for pixel in range(256)]


# --- the bundled copy ------------------------------------------------------------------

@pytest.fixture(scope="module")
def test_set():
    return load_mnist("test")


@pytest.fixture(scope="module")
def train_set():
    return load_mnist("train")


def test_bundled_counts_and_shapes(train_set, test_set):
    assert (len(train_set.images), len(train_set.labels)) == (60000, 60000)
    assert (len(test_set.images), len(test_set.labels)) == (10000, 10000)
    for data in (train_set, test_set):
        assert (data.rows, data.cols) == (28, 28)
        assert {len(image) for image in data.images} == {784}


def test_first_labels_are_the_well_known_ones(train_set, test_set):
    assert test_set.labels[:5] == [7, 2, 1, 0, 4]
    assert train_set.labels[:5] == [5, 0, 4, 1, 9]


def test_test_set_label_histogram(test_set):
    counts = Counter(test_set.labels)
    assert [counts[k] for k in range(10)] == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert sum(counts.values()) == 10000


def test_bundled_test_image_0_as_a_vector(test_set):
    x = to_vector(test_set.images[0])
    assert len(x) == 784
    assert (min(x), max(x)) == (0.0, 1.0)
    assert sum(1 for xj in x if xj == 0.0) == 668  # background pixels of that 7


def test_empty_gzip_content_has_no_magic_number(tmp_path):
    write_split(tmp_path, images_raw=b"")
    assert load_error(tmp_path) == f"{TRAIN_IMAGES}: truncated at byte 0 of its 4-byte magic number"


# --- the training and validation images ---------------------------------------------

def test_validation_images_are_the_last_val_size_and_none_is_trained_on():
    data = Dataset(images=[bytes([n]) for n in range(10)], labels=list(range(10)), rows=1, cols=1)
    images, labels, val_images, val_labels = train_val_split(data, 4, 3)
    assert labels == [0, 1, 2, 3] and images == [bytes([n]) for n in range(4)]
    assert val_labels == [7, 8, 9] and val_images == [bytes([n]) for n in (7, 8, 9)]
    # all of it but the validation set, and never a validation image twice
    everything = train_val_split(data, 7, 3)
    assert everything[1] == list(range(7)) and not set(everything[1]) & set(everything[3])
    with pytest.raises(ValueError, match="without overlap"):
        train_val_split(data, 8, 3)
    # one image each way is a split; none either way is not
    assert train_val_split(data, 1, 1) == ([bytes([0])], [0], [bytes([9])], [9])
    for n_train, val_size in ((0, 1), (1, 0)):
        with pytest.raises(ValueError) as info:
            train_val_split(data, n_train, val_size)
        assert str(info.value) == (f"cannot take {n_train} training and {val_size} validation "
                                   "images from a set of 10 without overlap")


# --- bounded reads: the header first, then no more than it promises ----------------------

def gzip_bomb(path, header: bytes, zeros: int) -> None:
    """A gzip file of `header` and then `zeros` zero bytes, compressed a piece at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)     # 31: gzip framing
    piece = bytes(1 << 20)
    with open(path, "wb") as f:
        f.write(packer.compress(header))
        for _ in range(zeros >> 20):
            f.write(packer.compress(piece))
        f.write(packer.flush())


def test_a_small_gzip_that_expands_to_far_more_than_promised_is_refused(tmp_path):
    # 3 images of 2x3 promised, 256 MiB delivered from a file of about 250 KB
    path = tmp_path / TRAIN_IMAGES
    gzip_bomb(path, idx_images(PIXELS), 256 << 20)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DataError) as info:
        read_images(str(path))
    assert str(info.value) == (f"{TRAIN_IMAGES}: more than {MAX_EXTRA:,} extra bytes after the 34 "
                               "the header accounts for (3 images of 2x3 pixels)")


def test_a_small_gzip_that_expands_to_far_more_than_promised_fails_in_bounded_memory(tmp_path,
                                                                                    peak_bytes):
    path = tmp_path / TRAIN_IMAGES
    gzip_bomb(path, idx_images(PIXELS), 256 << 20)

    def refused():
        with pytest.raises(DataError):
            read_images(str(path))

    assert peak_bytes(refused) < 4 << 20   # measured: 260,505 bytes (3.11); reading it all: 256 MiB


def test_a_header_that_promises_more_than_an_idx_file_may_hold_is_refused_before_reading_on(tmp_path):
    path = tmp_path / TRAIN_IMAGES
    write_gz(path, idx_images(PIXELS, count=0xFFFFFFFF, rows=28, cols=28))
    with pytest.raises(DataError) as info:
        read_images(str(path))
    promised = 16 + 0xFFFFFFFF * 784
    assert str(info.value) == (f"{TRAIN_IMAGES}: the header promises {promised:,} bytes, more than "
                               f"the {MAX_IDX_BYTES:,} an IDX file may hold")


def test_a_header_may_promise_exactly_the_most_an_idx_file_may_hold(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "MAX_IDX_BYTES", 34)         # idx_images(PIXELS) is 34 bytes
    write_gz(tmp_path / TRAIN_IMAGES, idx_images(PIXELS))
    assert read_images(str(tmp_path / TRAIN_IMAGES))[0] == PIXELS


def test_reading_stops_max_extra_plus_one_bytes_past_the_promise(tmp_path):
    path = tmp_path / TRAIN_IMAGES
    write_gz(path, idx_images(PIXELS) + bytes(3 * MAX_EXTRA))
    raw = read_idx(str(path), IMAGES_MAGIC, IMAGES_HEADER, "image")
    assert len(raw) == 34 + MAX_EXTRA + 1


def test_a_few_extra_bytes_are_counted_exactly(tmp_path):
    write_split(tmp_path, images_raw=idx_images(PIXELS) + bytes(MAX_EXTRA))
    assert f"{MAX_EXTRA} extra bytes after the 34" in load_error(tmp_path)
    write_split(tmp_path, images_raw=idx_images(PIXELS) + bytes(MAX_EXTRA + 1))
    assert f"more than {MAX_EXTRA:,} extra bytes after the 34" in load_error(tmp_path)


def test_a_damaged_crc_is_still_found_when_the_file_ends_where_its_header_says(tmp_path):
    data = bytearray(gzip.compress(idx_images(PIXELS)))
    data[-8] ^= 0xFF                                   # the CRC-32 of the trailer
    (tmp_path / TRAIN_IMAGES).write_bytes(bytes(data))
    write_gz(tmp_path / TRAIN_LABELS, idx_labels(LABELS))
    assert "not a valid gzip file (CRC check failed" in load_error(tmp_path)


@pytest.mark.parametrize("kind, make", [
    ("a named pipe (FIFO)", os.mkfifo),
    ("a directory", os.mkdir),
    ("a character device", lambda path: os.symlink("/dev/zero", path)),
])
def test_an_idx_path_that_is_not_a_regular_file_is_refused_before_it_is_opened(tmp_path, kind, make):
    write_split(tmp_path)
    (tmp_path / TRAIN_LABELS).unlink()
    make(str(tmp_path / TRAIN_LABELS))
    assert load_error(tmp_path) == f"{TRAIN_LABELS}: cannot read it: it is {kind}, not a file"


def test_corrupt_deflate_data_is_one_line(tmp_path):
    good = gzip.compress(idx_images(PIXELS))
    damaged = good[:10] + bytes([0xFF]) * 8 + good[18:]      # the first deflate block, overwritten
    (tmp_path / TRAIN_IMAGES).write_bytes(damaged)
    write_gz(tmp_path / TRAIN_LABELS, idx_labels(LABELS))
    assert load_error(tmp_path).startswith(f"{TRAIN_IMAGES}: corrupt gzip data (")
