"""The example programs (fastnn.examples), each run through its main() with small settings."""

import importlib.util
import os
import subprocess
import sys

import pytest

from fastnn import nn
from fastnn.examples import (
    backprop_by_hand,
    char_lstm,
    char_transformer,
    cnn_bn,
    cnn_fashion_mnist,
    feedforward_by_hand,
    linear_regression,
    optimizers_mnist,
    softmax_regression,
)


def test_linear_regression_recovers_w_and_b(capsys):
    result = linear_regression.main([])
    out = capsys.readouterr().out
    assert "epoch 3, loss 0.000" in out and "error in estimating b" in out
    assert result["loss"] < 2e-4
    w1, w2 = result["w"]
    assert abs(w1 - 2) < 0.01 and abs(w2 + 3.4) < 0.01
    assert abs(result["b"] - 4.2) < 0.01


def test_linear_regression_runs_as_module():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-m", "fastnn.examples.linear_regression", "--epochs", "1"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("epoch 1, loss ")


def test_softmax_regression_passes_the_documents_assertions(data_dir, capsys):
    # The real program: 10 epochs on all of Fashion-MNIST; train1 asserts train loss < 0.5 and
    # train/test accuracy > 0.7 itself.
    history = softmax_regression.main(["--data-root", data_dir, "--workers", "2"])
    assert len(history.epoch) == 10
    assert history.train_loss[-1] < 0.5
    assert 0.7 < history.train_acc[-1] <= 1 and 0.7 < history.test_acc[-1] <= 1
    assert history.train_loss[-1] < history.train_loss[0]
    assert "epoch 10, train loss" in capsys.readouterr().out


def test_softmax_regression_plot(data_dir, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "curves.png"
    softmax_regression.main(
        [
            "--data-root",
            data_dir,
            "--epochs",
            "2",
            "--limit",
            "2000",
            "--no-check",
            "--plot",
            str(png),
        ]
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_softmax_regression_check_fails_on_a_short_run(data_dir):
    # The book's assertions are live: one epoch on 512 images cannot reach loss < 0.5.
    with pytest.raises(AssertionError):
        softmax_regression.main(["--data-root", data_dir, "--epochs", "1", "--limit", "512"])


def test_feedforward_by_hand_prints_the_documents_numbers(capsys):
    r = feedforward_by_hand.main([])
    out = capsys.readouterr().out
    assert r["pre_hidden"] == pytest.approx([1.0, 1.3, 0.8])
    assert [round(h, 2) for h in r["hidden"]] == [0.73, 0.79, 0.69]
    assert r["output"] == pytest.approx(1.235, abs=0.005)  # text: 1.235 (rounded inputs)
    assert round(r["error"], 2) == 1.52
    assert r["fastnn_output"] == pytest.approx(r["output"], abs=1e-6)
    assert r["fastnn_error"] == pytest.approx(r["error"], abs=1e-5)
    # text: [[[2.99929065]] [[0.00478785]]] after 1000 epochs at lr 0.01
    assert abs(r["fd_w"] - 2.99929065) < 1e-4 and abs(r["fd_b"] - 0.00478785) < 5e-4
    assert abs(r["autograd_w"] - 3) < 1e-3 and abs(r["autograd_b"]) < 1e-2
    assert "[[[2.9993" in out and "autograd" in out


def test_backprop_by_hand_matches_the_worked_example(capsys):
    r = backprop_by_hand.main([])
    out = capsys.readouterr().out
    assert abs(r["E_total"] - 0.298371109) < 5e-9
    g = r["grads"]
    assert abs(g["w5"] - 0.082167041) < 1e-9
    assert abs(g["w6"] - 0.082667628) < 1e-9
    assert abs(g["w7"] + 0.022602540) < 1e-9
    assert abs(g["w1"] - 0.000438568) < 1e-9
    assert abs(g["w4"] - 0.000995425) < 1e-9
    assert r["autograd_max_diff"] < 1e-12
    new = r["new_weights"]  # lr 0.5
    assert abs(new["w5"] - 0.35891648) < 1e-8 and abs(new["w1"] - 0.149780716) < 1e-9
    assert r["E_total_after"] < r["E_total"]
    assert "dE/dw5 = 0.741365070 * 0.186815602 * 0.593269992 = 0.082167041" in out


def test_optimizers_mnist_table_and_sweep(data_dir, tmp_path, capsys):
    png = tmp_path / "optimizers.png"
    argv = [
        "--data-root",
        data_dir,
        "--epochs",
        "3",
        "--limit",
        "10000",
        "--eval-limit",
        "2000",
        "--lrs",
        "0.03,0.3",
    ]
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    if has_matplotlib:
        argv += ["--plot", str(png)]
    r = optimizers_mnist.main(argv)
    out = capsys.readouterr().out
    rows = r["table"]
    assert [row["optimizer"] for row in rows] == ["SGD", "Momentum", "AdaGrad", "RMSProp", "Adam"]
    for row in rows:
        assert len(row["val_acc"]) == 3 and len(row["train_loss"]) == 3
        assert 0.75 < row["test_acc"] <= 1, row
        assert row["train_loss"][-1] < row["train_loss"][0], row
    assert "| Momentum | 0.05 |" in out
    assert set(r["sweep"]) == {0.03, 0.3}
    assert r["sweep"][0.3] > r["sweep"][0.03]  # 30 steps: the small step size lags far behind
    if has_matplotlib:
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert "train: 10000 images" in out and "val  :  2000 images" in out


def test_optimizers_mnist_same_seed_same_model(data_dir):
    """SGD lr 0.1 in the table and in the sweep is the same run: same init, same batches."""
    r = optimizers_mnist.main(
        [
            "--data-root",
            data_dir,
            "--epochs",
            "1",
            "--limit",
            "3000",
            "--eval-limit",
            "1000",
            "--optimizers",
            "sgd",
            "--lrs",
            "0.1",
        ]
    )
    assert r["sweep"][0.1] == r["table"][0]["val_acc"][-1]


def test_optimizers_mnist_rejects_unknown_optimizer(capsys):
    with pytest.raises(SystemExit):
        optimizers_mnist.main(["--optimizers", "sgd,lbfgs"])
    assert "unknown optimizer 'lbfgs'" in capsys.readouterr().err


def test_cnn_fashion_mnist_beats_chance(data_dir):
    if not hasattr(nn, "Conv2d"):
        pytest.skip("nn.Conv2d / nn.MaxPool2d not in this build yet")
    history = cnn_fashion_mnist.main(
        [
            "--data-root",
            data_dir,
            "--epochs",
            "1",
            "--limit",
            "3000",
            "--eval-limit",
            "1000",
            "--no-progress",
        ]
    )
    assert history.test_acc[-1] > 0.5  # chance is 0.1


def test_cnn_bn_learns_with_batch_norm(data_dir):
    # A reduced run (1 epoch on 3000 images, 1000 test images) of the 5-epoch program, which
    # reaches test accuracy above 0.91 on the full data (README); here about 0.69, so the bar is
    # well above chance (0.1) and the evaluation uses the running statistics (net.eval()).
    history = cnn_bn.main(
        [
            "--data-root",
            data_dir,
            "--epochs",
            "1",
            "--limit",
            "3000",
            "--eval-limit",
            "1000",
            "--no-progress",
        ]
    )
    assert history.train_loss[-1] < 1.2
    assert history.test_acc[-1] > 0.6


def test_char_lstm_learns_the_text(capsys):
    # A short run of the character-level LSTM example: 60 steps of a 1-layer, 64-unit model
    # take the whole-text loss from ~5.2 bits/char (uniform over 38 symbols) below 3 (a unigram
    # model of the text needs ~4.2); main asserts the target itself.
    r = char_lstm.main(
        ["--steps", "60", "--hidden", "64", "--layers", "1", "--lr", "0.02", "--target", "3.0"]
    )
    assert r["bits_per_char"] < 3.0
    assert "whole text:" in capsys.readouterr().out


def test_char_transformer_learns_the_text(capsys):
    # 200 steps of the character-level Transformer (causal mask, pre-norm, AdamW) take the
    # whole-text loss from ~5.2 bits/char to ~2.4; main asserts the target itself.
    r = char_transformer.main(["--steps", "200", "--target", "3.0"])
    assert r["bits_per_char"] < 3.0
    assert "whole text:" in capsys.readouterr().out
