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

The live line never gets wider than the terminal: ``'\\r'`` only returns to the start of the
screen row, so a line that wraps leaves its first row behind and every redraw scrolls a new one.
When it is too wide, the bar narrows first, then metrics are left out from the last one back, then
the bar goes; the counter and the ETA stay. The final line of each bar is written once, so it
may be longer and shows everything.
"""
import math
import os
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


def terminal_width(stream, fallback=80):
    """The number of columns of the terminal that ``stream`` writes to.

    None when the stream has no file descriptor (an in-memory or notebook stream): such a display
    has no fixed width, and its ``'\\r'`` rewrites the whole logical line, so nothing is cut.
    ``fallback`` when the descriptor does not report a size (not a terminal, or 0 columns, as a
    freshly opened pseudo-terminal does). Asked again at every redraw, to follow a resize.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    try:
        columns = os.get_terminal_size(fd).columns
    except (OSError, ValueError):
        return fallback
    return columns if columns > 0 else fallback


def format_value(value):
    """Keras's number format: 4 decimals, or scientific notation for tiny magnitudes; a metric
    with several values (one per class) shows their mean, as Keras's bar does."""
    value = float(np.mean(value))
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


MIN_BAR_WIDTH = 10  # a narrower bar tells little: below this, leave the bar out


def _longest_prefix_that_fits(parts, room):
    """The first parts whose total length fits in ``room``, and the room left after them.

    A prefix, not the best packing, so the metrics keep their order and the first ones (the
    loss) are the last to go.
    """
    used = 0
    for count, part in enumerate(parts):
        if used + len(part) > room:
            return parts[:count], room - used
        used += len(part)
    return parts, room - used


class Progbar:
    """A progress bar over ``target`` steps.

    Args:
        target: the number of steps (batches), or None when unknown (no bar, no ETA).
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
            columns = terminal_width(self.stream)
            # One column spare: some terminals wrap as soon as the last column is written.
            max_width = None if columns is None else columns - 1
            line = self._live_line(current, eta, max_width, elapsed)
            # Blank out what the previous, longer line left, without going past the edge.
            pad_to = self._drawn_width if max_width is None else min(self._drawn_width, max_width)
            self._write("\r" + line + " " * max(0, pad_to - len(line)))
            self._drawn_width = len(line)

    def _live_line(self, current, eta, max_width=None, elapsed=0.0):
        """The redrawn line: counter, bar, ETA and the metrics, in at most ``max_width`` characters.

        With an unknown target (a generator of unknown length) there is no bar and no ETA: the
        time so far and per step take the ETA's place, as in Keras (``7/Unknown - 2s
        286ms/step - loss: ...``). What does not fit goes in this order: the bar narrows (down
        to ``MIN_BAR_WIDTH``), the metrics are left out from the last one back, then the bar
        goes. The counter and the ETA always stay (cut short only on a terminal too narrow even
        for them). None: no limit.
        """
        if self._has_bar():
            eta_text = f" - ETA: {format_duration(eta)}"
        else:
            per_step = elapsed / current if current else 0.0
            eta_text = f" - {elapsed:.0f}s {format_time_per_step(per_step, self.unit_name)}"
        metrics = self._metric_texts()
        if max_width is None:
            return self._bar(current) + eta_text + "".join(metrics)
        counter = self._counter(current)
        room = max_width - len(counter) - len(eta_text)  # for the bar and the metrics
        narrowest = min(self.width, MIN_BAR_WIDTH)
        bar = ""
        if self._has_bar() and room >= narrowest + 3:  # 3: " [" and "]"
            shown, left = _longest_prefix_that_fits(metrics, room - narrowest - 3)
            # what the metrics leave goes back to the bar, up to its full width
            bar = self._bar_body(current, min(self.width, narrowest + left))
        else:
            shown, _ = _longest_prefix_that_fits(metrics, room)
        line = counter + bar + eta_text + "".join(shown)
        return line[:max(0, max_width)]

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
            return f"{current:7d}/Unknown"  # Keras's width: the count grows without a known end
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _has_bar(self):
        return self.target is not None and self.target > 0

    def _bar(self, current):
        """The counter and, when the target is known, the bar at its full width."""
        text = self._counter(current)
        return text + self._bar_body(current, self.width) if self._has_bar() else text

    def _bar_body(self, current, width):
        """`` [===>....]`` with ``width`` characters between the brackets."""
        filled = int(width * min(current, self.target) / self.target)
        bar = ""
        if filled > 0:
            bar = "=" * (filled - 1) + (">" if current < self.target else "=")
        return f" [{bar}{'.' * (width - filled)}]"

    def _metric_texts(self):
        """One `` - name: value`` per metric, in the order they first came."""
        return [f" - {name}: {format_value(np.mean(value))}"
                for name, value in self._values.items()]

    def _metrics(self):
        return "".join(self._metric_texts())

    def _write(self, text):
        stream = self.stream
        stream.write(text)
        stream.flush()
