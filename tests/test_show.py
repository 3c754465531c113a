"""purenet show: the digit as text art, its label, and a model's probabilities."""

import gzip
import os
import struct
import subprocess
import sys

from purenet.cli import main
from purenet.commands.show import (SHADES, digit_art, probability_chart, shade, verdict)
from purenet.matrix import argmax
from purenet.mnist import FILES, load_mnist
from purenet.model_io import Model, save_model
from purenet.network import he_init, predict, to_vector

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_purenet(*args):
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True)


def art_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith("|")]


# --- the command as a user runs it -------------------------------------------------

def test_show_0_prints_label_7_and_28_art_lines():
    result = run_purenet("show", "0")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "label: 7" in result.stdout.splitlines()
    art = art_lines(result.stdout)
    assert len(art) == 28
    assert {len(line) for line in art} == {2 + 28 * 2}
    assert any(set(line) - {"|", " "} for line in art)  # some ink was drawn


def test_index_out_of_range_is_one_line_and_exit_2():
    result = run_purenet("show", "10000")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("purenet: error: INDEX 10000 is out of range: "
                             "the test set has 10000 images, 0 to 9999\n")


def test_train_set_image_0_is_a_5(capsys):
    assert main(["show", "0", "--set", "train"]) == 0
    assert "label: 5" in capsys.readouterr().out.splitlines()


def test_data_dir_and_no_verify(tmp_path, capsys):
    images_name, labels_name = FILES["train"]
    pixels = bytes([0, 255, 0, 128, 0, 255])  # one 2x3 image
    images_raw = struct.pack(">IIII", 0x803, 1, 2, 3) + pixels
    (tmp_path / images_name).write_bytes(gzip.compress(images_raw))
    (tmp_path / labels_name).write_bytes(gzip.compress(struct.pack(">II", 0x801, 1) + bytes([4])))
    code = main(["show", "0", "--set", "train", "--data-dir", str(tmp_path), "--no-verify"])
    out = capsys.readouterr().out
    assert code == 0
    assert "label: 4" in out.splitlines()
    assert art_lines(out) == ["|  @@  |", "|++  @@|"]


def test_with_a_model_prints_its_probabilities_and_prediction(tmp_path, capsys):
    params = he_init((784, 8, 10), seed=3)
    path = str(tmp_path / "model.json")
    save_model(path, Model(params=params))
    assert main(["show", "0", "--model", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    p = predict(params, to_vector(load_mnist("test").images[0]))
    chart = [line for line in lines if line.startswith("  ") and line.split()[0].isdigit()]
    assert [int(line.split()[0]) for line in chart] == list(range(10))
    assert [float(line.split()[1]) for line in chart] == [round(p_k, 4) for p_k in p]
    assert lines[-1].startswith(f"prediction: {argmax(p)} ")


def test_model_of_the_wrong_input_size_is_refused(tmp_path, capsys):
    path = str(tmp_path / "small.json")
    save_model(path, Model(params=he_init((4, 3, 10), seed=0)))
    assert main(["show", "0", "--model", path]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing drawn before the error
    assert captured.err == (f"purenet: error: {path}: model has input size 4, "
                            f"but the images have 28x28 = 784 pixels\n")


# --- the pieces ------------------------------------------------------------------

def test_shade_runs_from_blank_to_full_ink_in_order():
    shades = [shade(pixel) for pixel in range(256)]
    assert shades[0] == " " and shades[255] == "@"
    assert [SHADES.index(s) for s in shades] == sorted(SHADES.index(s) for s in shades)
    assert set(shades) == set(SHADES)


def test_digit_art_draws_each_pixel_twice_between_borders():
    image = bytes([0, 255, 0,
                   255, 0, 128])
    assert digit_art(image, 2, 3) == ["|  @@  |",
                                      "|@@  ++|"]


def test_probability_chart_bars_are_p_times_40():
    lines = probability_chart([0.0, 0.25, 0.75], label=2)
    assert lines == ["  0  0.0000  ",
                     "  1  0.2500  ##########",
                     "  2  0.7500  ##############################  <- label"]


def test_verdict_says_right_or_wrong():
    assert verdict([0.1, 0.9], label=1) == "prediction: 1 (p = 0.9000), correct"
    assert verdict([0.1, 0.9], label=0) == "prediction: 1 (p = 0.9000), wrong, the label is 0"
