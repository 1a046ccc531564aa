"""MNIST handwritten digits, read straight from the four official IDX ``.gz`` files.

``load_data()`` returns ``((x_train, y_train), (x_test, y_test))``: uint8 images of 28x28 pixels
(0 = background, 255 = full ink), shapes ``(60000, 28, 28)`` and ``(10000, 28, 28)``, and uint8
labels 0..9, shapes ``(60000,)`` and ``(10000,)``.

The MNIST database is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, under the
Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0).

This module needs only the standard library and NumPy, so it can also be imported on its own.
"""
import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import zlib

import numpy as np

# File name -> SHA-256 of the official file; a download must match it byte for byte.
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# Public copies of the official files, tried in order (the original site is often unreachable).
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

# IDX magic number: 0x08 (unsigned bytes) in the third byte, the number of dimensions in the fourth.
IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (count)

_WHO = "minigrad.datasets.mnist"


def urlopen(url, timeout=60):
    """The module's only door to the network (tests replace it with a fake)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _read_idx(file, magic, what):
    """Decompress one IDX file and check its header; return a writable uint8 array of its dims.

    The payload is decompressed into the array 1 MiB at a time (``readinto``): one copy of the
    data in memory, not two (the decompressed bytes and a writable copy of them).
    """
    file = os.fspath(file)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim  # big-endian int32 magic, then one big-endian int32 per dimension
    try:
        with gzip.open(file, "rb") as f:
            head = f.read(header)
            if len(head) < header:
                raise ValueError(f"{_WHO}: {file} is truncated: an IDX header needs {header} "
                                 f"bytes, found {len(head)}")
            found_magic, *dims = (int(v) for v in np.frombuffer(head, ">i4", count=1 + ndim))
            if found_magic != magic:
                raise ValueError(f"{_WHO}: {file} has magic number {found_magic}, expected "
                                 f"{magic} (IDX {what}); is it the right file?")
            expected = int(np.prod(dims))
            out = np.empty(expected, np.uint8)
            view, found = memoryview(out), 0
            while found < expected:  # 1 MiB at a time: gzip decompresses a read as one bytes
                n = f.readinto(view[found:found + (1 << 20)])
                if not n:
                    break
                found += n
            while found >= expected:  # whatever follows the payload is counted, not kept
                n = len(f.read(1 << 20))
                if not n:
                    break
                found += n
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:  # not gzip, cut short, or corrupt
        raise ValueError(f"{_WHO}: {file} is not a valid gzip stream: {e}") from None
    if found != expected:
        problem = "is truncated" if found < expected else "has extra bytes"
        raise ValueError(f"{_WHO}: {file} {problem}: header says {'x'.join(map(str, dims))} = "
                         f"{expected} bytes of {what}, found {found}")
    return out.reshape(dims)


def read_idx_images(file):
    """Read an IDX images ``.gz`` file: uint8 array (count, rows, columns), pixel values 0..255."""
    return _read_idx(file, IMAGES_MAGIC, "pixels")


def read_idx_labels(file):
    """Read an IDX labels ``.gz`` file: uint8 array (count,) of class indices."""
    return _read_idx(file, LABELS_MAGIC, "labels")


def cache_dir():
    """The user cache folder: ``$XDG_CACHE_HOME/minigrad/mnist``, default ``~/.cache/minigrad/mnist``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minigrad", "mnist")


def _missing(folder):
    return [name for name in FILES if not os.path.isfile(os.path.join(folder, name))]


def _fetch(url, dest, sha256):
    """Stream ``url`` into a temp file beside ``dest``, check its SHA-256, then rename it to ``dest``."""
    # Same folder as dest, so os.replace is an atomic rename: readers see no file or the whole file.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urlopen(url) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(f"{_WHO}: checksum mismatch for {os.path.basename(dest)} from {url}: "
                             f"expected SHA-256 {sha256}, received {digest.hexdigest()}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):  # failed or mismatched: leave no partial file behind
            os.remove(tmp)


def download(dest_dir, mirrors=None):
    """Download each file of ``FILES`` missing from ``dest_dir``, SHA-256 checked; return ``dest_dir``.

    Tries ``mirrors`` (base URLs, default ``MIRRORS``) in order. A file whose checksum does not match
    raises ValueError; if no mirror can serve a file, raises OSError listing each URL and its error.
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    os.makedirs(dest_dir, exist_ok=True)
    for name in _missing(dest_dir):
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + name
            try:
                _fetch(url, os.path.join(dest_dir, name), FILES[name])
                break
            except (OSError, http.client.HTTPException) as e:  # URLError, HTTPError, timeouts
                errors.append(f"  {url}: {e}")
        else:
            raise OSError(f"{_WHO}: could not download {name}:\n" + "\n".join(errors))
    return dest_dir


def find_data_dir(path=None):
    """Return the folder holding the four MNIST files, downloading them if need be.

    Looks in ``path`` if given (and nowhere else), else in ``$MINIGRAD_DATA/mnist``, else in
    ``cache_dir()``, else downloads into ``cache_dir()``.
    """
    if path is not None:
        path = os.path.expanduser(os.fspath(path))
        missing = _missing(path)
        if missing:  # an explicit path is a promise: say so rather than silently look elsewhere
            raise FileNotFoundError(f"{_WHO}: path={path!r} lacks {', '.join(missing)}")
        return path
    looked = []
    if os.environ.get("MINIGRAD_DATA"):
        looked.append(os.path.join(os.environ["MINIGRAD_DATA"], "mnist"))
    looked.append(cache_dir())
    for folder in looked:
        if not _missing(folder):
            return folder
    try:
        return download(cache_dir())
    except OSError as e:
        raise FileNotFoundError(
            f"{_WHO}: the MNIST files are not in {' nor '.join(looked)}, and downloading them "
            f"failed.\n{e}\nTo install them by hand, put the four files {', '.join(FILES)} "
            f"(e.g. from minigrad's source tree, data/mnist/) into {cache_dir()}, or into "
            f"$MINIGRAD_DATA/mnist, or pass load_data(path=that_folder).") from e


def _load_pair(folder, prefix):
    images_file = os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")
    labels_file = os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")
    images, labels = read_idx_images(images_file), read_idx_labels(labels_file)
    if len(images) != len(labels):
        raise ValueError(f"{_WHO}: {images_file} holds {len(images)} images but {labels_file} "
                         f"holds {len(labels)} labels; they must match")
    return images, labels


def load_data(path=None):
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``.

    x_train: uint8 (60000, 28, 28), pixels 0..255; y_train: uint8 (60000,), digits 0..9;
    x_test: uint8 (10000, 28, 28); y_test: uint8 (10000,). See ``find_data_dir`` for where
    the files are looked for. Headers are always validated; checksums only when downloading.
    """
    folder = find_data_dir(path)
    return _load_pair(folder, "train"), _load_pair(folder, "t10k")
