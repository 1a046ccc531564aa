"""The live progress bar fits the terminal's width (a line that wraps scrolls at every redraw)."""
import io
import os
import select
import subprocess
import sys
import textwrap
import time

import pytest

from minigrad.training import progbar as progbar_module
from minigrad.training.progbar import MIN_BAR_WIDTH, Progbar, terminal_width

LONG_METRICS = {"loss": 0.25, "sparse_categorical_accuracy": 0.5,
                "sparse_top_k_categorical_accuracy": 0.75, "mean_absolute_error": 1e-5,
                "val_loss_that_is_long": 12.5, "accuracy": 0.125}


def _bar_with(metrics, target=1000, width=30):
    bar = Progbar(target, width=width, verbose=1, stream=io.StringIO())
    bar.update(0, metrics, finalize=False)  # not a terminal: records the values, draws nothing
    return bar


@pytest.mark.parametrize("max_width", [79, 80, 60, 40, 25])
@pytest.mark.parametrize("eta", [3, 125, 3725])
def test_live_line_never_wider_than_asked(max_width, eta):
    bar = _bar_with(LONG_METRICS)
    for current in (1, 9, 10, 99, 500, 999):
        line = bar._live_line(current, eta, max_width)
        assert len(line) <= max_width, line
        # what always stays: the counter and the ETA
        assert line.startswith(f"{current:4d}/1000") and " - ETA: " in line
    assert len(bar._live_line(1, eta, None)) > 200  # the unlimited line would wrap


def test_live_line_shrinks_the_bar_then_drops_metrics_from_the_last():
    bar = _bar_with({"loss": 0.25, "accuracy": 0.5})
    full = bar._live_line(500, 3, None)
    assert full == " 500/1000 [==============>...............] - ETA: 3s" \
                   " - loss: 0.2500 - accuracy: 0.5000"
    assert bar._live_line(500, 3, len(full)) == full  # room enough: unchanged
    # 10 columns short: the bar gives them up, the metrics all stay
    narrower = bar._live_line(500, 3, len(full) - 10)
    assert narrower == (" 500/1000 [=========>..........] - ETA: 3s"
                        " - loss: 0.2500 - accuracy: 0.5000")
    # shorter still: the bar stops at MIN_BAR_WIDTH and the last metric goes;
    # the room the dropped metric leaves goes back to the bar
    no_accuracy = bar._live_line(500, 3, len(full) - 25)
    assert no_accuracy == " 500/1000 [===========>............] - ETA: 3s - loss: 0.2500"
    assert len(no_accuracy) == len(full) - 25
    no_metrics = bar._live_line(500, 3, len(" 500/1000 [] - ETA: 3s") + MIN_BAR_WIDTH)
    assert no_metrics == " 500/1000 [====>.....] - ETA: 3s"
    # then the bar goes; counter and ETA stay
    assert bar._live_line(500, 3, 25) == " 500/1000 - ETA: 3s"
    # a terminal narrower than even those: cut, never wrapped
    assert bar._live_line(500, 3, 12) == " 500/1000 - "


def test_live_line_unknown_target_has_no_bar_and_no_eta():
    """As Keras: ``step/Unknown`` (7 wide), then the time so far and per step, then metrics."""
    bar = _bar_with(LONG_METRICS, target=None)
    line = bar._live_line(7, 0, 60, elapsed=14.0)
    assert line.startswith("      7/Unknown - 14s 2s/step - loss: 0.2500") and len(line) <= 60
    assert "ETA" not in line and "[" not in line
    assert bar._live_line(7, 0, 20, elapsed=14.0) == "      7/Unknown - 14"  # cut, not wrapped
    full = bar._live_line(250, 0, None, elapsed=0.5)
    assert full.startswith("    250/Unknown - 0s 2ms/step - loss: 0.2500 - "
                           "sparse_categorical_accuracy: 0.5000")


def test_unknown_target_final_line_and_live_redraws():
    stream = _Terminal()
    bar = Progbar(None, verbose=1, interval=0.0, stream=stream)
    for step in range(1, 4):
        bar.update(step, {"loss": 1.0 / step})
    bar.update(3, {"loss": 0.25}, finalize=True)
    frames = stream.getvalue().split("\r")[1:]
    assert len(frames) == 4
    assert all(f.startswith(f"      {i}/Unknown - 0s ") and "ETA" not in f
               for i, f in zip((1, 2, 3), frames))
    assert frames[-1].startswith("      3/Unknown - 0s ") and frames[-1].endswith(
        " - loss: 0.2500\n")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_redraws_clear_what_a_longer_line_left_but_never_past_the_edge(monkeypatch):
    widths = iter([200, 200, 50])  # the terminal is made narrower before the third redraw
    monkeypatch.setattr(progbar_module, "terminal_width", lambda stream: next(widths))
    stream = _Terminal()
    bar = Progbar(100, verbose=1, interval=0.0, stream=stream)
    bar.update(1, {"loss": 123.25, "acc": 0.5})
    bar.update(2, {"loss": 0.0})  # "0.0000" is 2 characters shorter than "123.2500"
    bar.update(3, {"loss": 0.0})
    bar.update(100, {"loss": 0.5}, finalize=True)
    first, second, third, final = stream.getvalue().split("\r")[1:]
    assert first.endswith("] - ETA: 0s - loss: 123.2500 - acc: 0.5000")
    # padded with blanks over the 2 characters the first line left
    assert second.endswith("] - ETA: 0s - loss: 0.0000 - acc: 0.5000  ")
    assert len(second) == len(first)
    # 50 columns: the line and its padding stay within 49
    assert third.startswith("  3/100 [") and len(third) == 49
    assert final.startswith("100/100 [==============================] - ") and final.endswith("\n")


def test_terminal_width_of_streams_without_a_size(tmp_path):
    assert terminal_width(io.StringIO()) is None  # no descriptor: no fixed width to fit
    with open(tmp_path / "log.txt", "w") as log:  # a descriptor, but not a terminal
        assert terminal_width(log) == 80 and terminal_width(log, fallback=100) == 100


def _pty_pair(columns):
    """A pseudo-terminal (master, slave) whose window is ``columns`` wide."""
    pty = pytest.importorskip("pty")
    fcntl = pytest.importorskip("fcntl")
    termios = pytest.importorskip("termios")
    import struct
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    return master, slave


def test_terminal_width_of_a_pseudo_terminal():
    for columns, expected in ((57, 57), (0, 80)):  # 0: a pty nobody sized yet
        master, slave = _pty_pair(columns)
        try:
            with open(slave, "w", closefd=False) as stream:
                assert terminal_width(stream) == expected
        finally:
            os.close(slave)
            os.close(master)


_CHILD = textwrap.dedent("""
    import numpy as np
    from minigrad import layers as L
    from minigrad.models import Sequential
    from minigrad.training.progbar import Progbar

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = Sequential([L.Dense(8, activation="relu", input_shape=(4,)),
                        L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
                           "accuracy"])
    model.fit(x, y, epochs=2, batch_size=4, verbose=1, seed=0)

    # every step drawn, with values whose printed length changes from step to step
    bar = Progbar(60, interval=0.0)
    for step in range(1, 61):
        bar.update(step, {"loss": 1000.0 / step, "a_long_metric_name": 0.5,
                          "another_long_metric_name": 1e-5 * step, "accuracy": step / 60})
""")


def _run_in_pty(script, columns=80):
    """Run ``script`` in a child Python whose stdout is a ``columns``-wide pseudo-terminal;
    return the live (redrawn) segments and the final lines it wrote."""
    master, slave = _pty_pair(columns)
    try:
        child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL,
                                 stdout=slave, stderr=subprocess.PIPE)
    finally:
        os.close(slave)  # the child holds its own copy; reading then ends when the child exits
    chunks, deadline = [], time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.5)[0]:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the slave side is closed (Linux)
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        stderr = child.communicate(timeout=30)[1].decode(errors="replace")
    assert child.returncode == 0, stderr
    # the terminal turns "\n" into "\r\n"; every "\r" before a line's end starts a redraw
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    live, final = [], []
    for line in text.split("\n"):
        *redraws, last = line.split("\r")
        live += [segment for segment in redraws if segment]
        final.append(last)
    return live, final


def test_fit_live_line_fits_an_80_column_pseudo_terminal():
    live, final = _run_in_pty(_CHILD)
    text = "\n".join(live + final)
    assert len(live) >= 2 + 59, text  # fit's first step of each epoch, every step of the Progbar
    assert all(" - ETA: " in segment and " - loss: " in segment for segment in live), live
    too_wide = [segment for segment in live if len(segment) > 80]
    assert not too_wide, too_wide
    # the final lines are written once and may be longer: they show every metric
    assert any("sparse_top_k_categorical_accuracy: " in line and " - accuracy: " in line
               for line in final if line.startswith("12/12 ["))
    assert any(line.startswith("60/60 [") and "another_long_metric_name: " in line
               for line in final)


_CHILD_UNKNOWN = textwrap.dedent("""
    import numpy as np
    from minigrad import layers as L
    from minigrad.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    class Batches:  # re-iterable, of unknown length
        def __iter__(self):
            return ((x[i:i + 4], y[i:i + 4]) for i in range(0, 48, 4))

    model = Sequential([L.Dense(8, activation="relu", input_shape=(4,)),
                        L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"])
    model.fit(Batches(), epochs=2, verbose=1)
""")


def test_fit_on_batches_of_unknown_length_in_an_80_column_pseudo_terminal():
    """The first epoch does not know its length: ``step/Unknown``, no bar, no ETA; its end
    tells the length, which the final line and the next epoch show as Keras does."""
    live, final = _run_in_pty(_CHILD_UNKNOWN)
    first = [segment for segment in live if "/Unknown" in segment]
    assert first and all(segment.startswith("      1/Unknown - ") and "ETA" not in segment
                         and "[" not in segment and " - loss: " in segment
                         for segment in first), live
    assert any(segment.startswith(" 1/12 [") and " - ETA: " in segment for segment in live)
    assert not [segment for segment in live if len(segment) > 80], live
    ends = [line for line in final if line.startswith("12/12 [====")]
    assert len(ends) == 2 and all("sparse_top_k_categorical_accuracy: " in e for e in ends)
