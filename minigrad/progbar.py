"""The Keras-style progress bar that ``fit``, ``evaluate`` and ``predict`` print.

``verbose=1`` shows a live bar, redrawn in place (with ``'\\r'``) at most ``1 / interval`` times a
second, and finishes with the epoch's totals::

     12/938 [>.............................] - ETA: 3s - loss: 0.4012 - accuracy: 0.9001
    938/938 [==============================] - 21s 22ms/step - loss: 0.2100 - accuracy: 0.9400

``verbose=2`` prints only that last line, without the bar::

    938/938 - 21s - 22ms/step - loss: 0.2100 - accuracy: 0.9400

Redrawing in place only makes sense on a terminal; when the stream is not one (a log file, a CI
job), ``verbose=1`` prints only the final line of each bar, so logs do not fill with
half-drawn bars.
"""
import math
import sys
import time

import numpy as np


def stream_is_terminal(stream=None):
    """True when ``stream`` (default: the current ``sys.stdout``) is an interactive terminal."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def resolve_verbose(verbose, who):
    """``"auto"`` -> 1 on a terminal, else 2 (one line per epoch); 0, 1, 2 pass through."""
    if verbose == "auto":
        return 1 if stream_is_terminal() else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{who}: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def format_value(value):
    """Keras's number format: 4 decimals, or scientific notation for tiny magnitudes."""
    value = float(value)
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0.0 else f"{value:.4e}"


def format_duration(seconds):
    """ETA in Keras's style: ``7s``, ``2:05``, ``1:02:05``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_time_per_step(seconds, unit="step"):
    """``2s/step``, ``22ms/step`` or ``850us/step``."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """A progress bar over ``target`` steps.

    Args:
        target: the number of steps (batches), or None when unknown.
        width: characters inside ``[...]``.
        verbose: 1 (live bar) or 2 (final line only); 0 prints nothing.
        interval: the least number of seconds between two redraws.
        stream: where to write; default the ``sys.stdout`` of the moment of each write (so tests
            that capture stdout see it).
        unit_name: the word after the time per unit (``step``).
    """

    def __init__(self, target, width=30, verbose=1, interval=0.1, stream=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._stream = stream
        self._start = time.monotonic()
        self._last_draw = -math.inf  # the first step is always drawn
        self._drawn_width = 0   # characters of the bar now on the line (to blank out leftovers)
        self._values = {}       # name -> the value shown (the caller passes running means)
        self._finished = False

    @property
    def stream(self):
        return sys.stdout if self._stream is None else self._stream

    def update(self, current, values=None, finalize=None):
        """Move to step ``current`` and show ``values`` (a dict name -> number, or pairs).

        ``finalize`` (default: ``current >= target``) draws the final line and a newline.
        """
        for name, value in (dict(values) if values else {}).items():
            self._values[name] = value
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if self.verbose == 0 or self._finished:
            return
        now = time.monotonic()
        live = self.verbose == 1 and stream_is_terminal(self.stream)
        if not finalize and (not live or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        if finalize:
            self._finished = True
            self._write_final(current, elapsed, per_step, live)
        else:
            eta = per_step * (self.target - current) if self.target else 0.0
            line = self._bar(current) + f" - ETA: {format_duration(eta)}" + self._metrics()
            self._write("\r" + line + " " * max(0, self._drawn_width - len(line)))
            self._drawn_width = len(line)

    def _write_final(self, current, elapsed, per_step, live):
        timing = f"{elapsed:.0f}s {format_time_per_step(per_step, self.unit_name)}"
        if self.verbose == 1:
            line = self._bar(current) + " - " + timing + self._metrics()
        else:
            timing = timing.replace(" ", " - ", 1)
            line = self._counter(current) + " - " + timing + self._metrics()
        pad = " " * max(0, self._drawn_width - len(line))
        self._write(("\r" if live else "") + line + pad + "\n")

    def _counter(self, current):
        if self.target is None:
            return f"{current}/Unknown"
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current):
        text = self._counter(current)
        if self.target is None or self.target <= 0:
            return text
        filled = int(self.width * min(current, self.target) / self.target)
        bar = ""
        if filled > 0:
            bar = "=" * (filled - 1) + (">" if current < self.target else "=")
        return f"{text} [{bar}{'.' * (self.width - filled)}]"

    def _metrics(self):
        return "".join(f" - {name}: {format_value(np.mean(value))}"
                       for name, value in self._values.items())

    def _write(self, text):
        stream = self.stream
        stream.write(text)
        stream.flush()
