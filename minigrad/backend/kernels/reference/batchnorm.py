"""NumPy twin of ``batchnorm.pyx``: batch-norm statistics and maps on a (P, C) view, P = N*H*W rows
and C channels innermost.

The per-channel map is ``y = clip((x - center) * scale + shift, lo, hi)``: the clip is a fused ReLU
(lo = 0) or ReLU6 (lo = 0, hi = 6), and infinite bounds leave y alone. Where the clip is active its
derivative is 0, so the backward passes only ``g'`` = g where lo < y < hi (and 0 elsewhere) on.
The statistics are float64 arrays of shape (C,), whatever x's dtype.

>>> x = np.array([[1.0, 10.0], [3.0, 10.0]])
>>> mean, var = np.empty(2), np.empty(2)
>>> moments(x, mean, var, 1)
>>> mean.tolist(), var.tolist()
([2.0, 10.0], [1.0, 0.0])
"""
import numpy as np


def moments(x, mean, var, num_threads):
    """mean[c] = sum_p x[p, c] / P;  var[c] = sum_p (x[p, c] - mean[c])^2 / P (biased)."""
    m = x.mean(axis=0, dtype=np.float64)
    mean[:] = m
    var[:] = ((x - m) ** 2).mean(axis=0) if x.shape[0] else 0.0


def _passed(x, g, center, scale, shift, lo, hi):
    """g where the clip of (x - center) * scale + shift lets the gradient through, else 0."""
    if lo == -np.inf and hi == np.inf:
        return g
    y = (x - center) * scale + shift
    return np.where((y > lo) & (y < hi), g, 0)


def backward_sums(x, g, mean, center, scale, shift, lo, hi, sum_g, sum_gxc, num_threads):
    """sum_g[c] = sum_p g'[p, c];  sum_gxc[c] = sum_p g'[p, c] * (x[p, c] - mean[c])."""
    g = _passed(x, g, center, scale, shift, lo, hi)
    sum_g[:] = g.sum(axis=0, dtype=np.float64)
    sum_gxc[:] = (g.astype(np.float64) * (x - mean)).sum(axis=0)


def normalize(x, center, scale, shift, lo, hi, out, num_threads):
    """out[p, c] = clip((x[p, c] - center[c]) * scale[c] + shift[c], lo, hi)."""
    np.subtract(x, center, out=out)
    out *= scale
    out += shift
    np.clip(out, lo, hi, out=out)


def normalize_backward(g, x, center, scale, shift, lo, hi, a, b, d, out, num_threads):
    """out[p, c] = a[c] * g'[p, c] + b[c] * (x[p, c] - center[c]) + d[c]."""
    np.multiply(_passed(x, g, center, scale, shift, lo, hi), a, out=out)
    out += b * (x - center)
    out += d
