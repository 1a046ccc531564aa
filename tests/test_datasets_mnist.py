"""Tests for minigrad.datasets.mnist: parsing, validation, lookup order and download (never online)."""
import gzip
import hashlib
import importlib.util
import io
import os
import pathlib
import struct
import urllib.error

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "mnist"

try:
    import minigrad.datasets.mnist as mnist
except ImportError:  # the package around it is not importable yet: load the module on its own
    _spec = importlib.util.spec_from_file_location(
        "_minigrad_mnist_standalone", ROOT / "minigrad" / "datasets" / "mnist.py")
    mnist = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(mnist)


# ---------------------------------------------------------------------------- helpers


def write_idx(path, magic, dims, payload=None):
    """Write a gzipped IDX file; payload defaults to a counting pattern of the right size."""
    if payload is None:
        payload = (np.arange(int(np.prod(dims))) % 256).astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(f">{1 + len(dims)}i", magic, *dims) + payload)
    return path


def make_set(folder, n_train=3, n_test=2):
    """A complete, tiny, valid MNIST-shaped folder with n_train / n_test examples."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051, (n, 28, 28))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, (n,))
    return folder


def real_bytes(name):
    return (DATA / name).read_bytes()


class FakeNet:
    """Stands in for urlopen: serves bytes per file name, records each URL asked for."""

    def __init__(self, serve=real_bytes, fail_prefixes=()):
        self.serve, self.fail_prefixes, self.urls = serve, fail_prefixes, []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        if url.startswith(self.fail_prefixes):
            raise urllib.error.URLError("mirror down")
        return io.BytesIO(self.serve(url.rsplit("/", 1)[1]))


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the real environment, cache or network."""
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def no_internet(url, timeout=None):
        raise AssertionError(f"test tried to reach the network: {url}")

    monkeypatch.setattr(mnist, "urlopen", no_internet)


@pytest.fixture(scope="module")
def real():
    """The real data set, decompressed once for the whole module."""
    return mnist.load_data(DATA)


# ---------------------------------------------------------------------------- the real files


def test_real_shapes_and_dtypes(real):
    (x_train, y_train), (x_test, y_test) = real
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
        assert a.flags.writeable and a.flags.c_contiguous


def test_real_known_values(real):
    (x_train, y_train), (x_test, y_test) = real
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert y_train.max() <= 9 and y_test.max() <= 9
    # Published class counts (data/mnist/README.md) and the well-known mean pixel 0.1307.
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.min() == 0 and x_train.max() == 255
    assert abs(x_train.mean() / 255 - 0.1307) < 1e-4


def test_shipped_files_match_hard_coded_checksums():
    assert set(mnist.FILES) <= set(os.listdir(DATA))
    for name, sha256 in mnist.FILES.items():
        assert hashlib.sha256(real_bytes(name)).hexdigest() == sha256


@pytest.mark.parametrize("dims", [(0, 28, 28), (1, 28, 28), (5, 3, 7)])
def test_images_round_trip(tmp_path, dims):
    pixels = np.random.default_rng(0).integers(0, 256, dims, dtype=np.uint8)
    path = write_idx(tmp_path / "x.gz", 2051, dims, pixels.tobytes())
    np.testing.assert_array_equal(mnist.read_idx_images(path), pixels)


def test_images_are_read_without_a_second_copy(tmp_path):
    import tracemalloc
    dims = (3000, 28, 28)                                    # 2.2 MiB of pixels, many gzip reads
    pixels = np.random.default_rng(1).integers(0, 256, dims, dtype=np.uint8)
    path = write_idx(tmp_path / "x.gz", 2051, dims, pixels.tobytes())
    tracemalloc.start()
    try:
        images = mnist.read_idx_images(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(images, pixels)
    assert images.flags.writeable and images.dtype == np.uint8
    assert peak < 1.6 * pixels.nbytes, peak                 # the array and one 1 MiB chunk


def test_labels_round_trip(tmp_path):
    labels = np.array([3, 1, 4, 1, 5, 9], np.uint8)
    path = write_idx(tmp_path / "y.gz", 2049, (6,), labels.tobytes())
    np.testing.assert_array_equal(mnist.read_idx_labels(path), labels)


# ---------------------------------------------------------------------------- lookup order


def test_explicit_path_beats_env_beats_cache(tmp_path, monkeypatch):
    explicit = make_set(tmp_path / "explicit", n_train=1)
    make_set(tmp_path / "env" / "mnist", n_train=2)
    make_set(tmp_path / "xdg" / "minigrad" / "mnist", n_train=3)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    assert len(mnist.load_data(explicit)[0][0]) == 1
    assert len(mnist.load_data(str(explicit))[0][1]) == 1
    assert len(mnist.load_data()[0][0]) == 2
    monkeypatch.delenv("MINIGRAD_DATA")
    assert len(mnist.load_data()[0][0]) == 3  # and urlopen was never called


def test_env_var_honoured(tmp_path, monkeypatch):
    make_set(tmp_path / "env" / "mnist", n_train=4, n_test=1)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    assert mnist.find_data_dir() == str(tmp_path / "env" / "mnist")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (4, 28, 28) and y_test.shape == (1,)


def test_incomplete_env_folder_falls_through_to_cache(tmp_path, monkeypatch):
    env = make_set(tmp_path / "env" / "mnist")
    (env / "t10k-labels-idx1-ubyte.gz").unlink()
    cache = make_set(tmp_path / "xdg" / "minigrad" / "mnist")
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    assert mnist.find_data_dir() == str(cache)


def test_default_cache_is_under_home(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.cache_dir() == str(tmp_path / "home" / ".cache" / "minigrad" / "mnist")


def test_explicit_path_missing_files_errors_without_falling_through(tmp_path, monkeypatch):
    make_set(tmp_path / "env" / "mnist")
    make_set(tmp_path / "xdg" / "minigrad" / "mnist")
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    partial = make_set(tmp_path / "partial")
    (partial / "train-images-idx3-ubyte.gz").unlink()
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data(partial)
    message = str(info.value)
    assert str(partial) in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "train-labels-idx1-ubyte.gz" not in message


# ---------------------------------------------------------------------------- download


def test_download_when_nothing_found(tmp_path, monkeypatch):
    net = FakeNet()
    monkeypatch.setattr(mnist, "urlopen", net)
    folder = mnist.find_data_dir()
    assert folder == mnist.cache_dir() == str(tmp_path / "xdg" / "minigrad" / "mnist")
    assert sorted(os.listdir(folder)) == sorted(mnist.FILES)  # no temp files left behind
    for name in mnist.FILES:
        assert pathlib.Path(folder, name).read_bytes() == real_bytes(name)
    assert net.urls == [mnist.MIRRORS[0] + name for name in mnist.FILES]
    assert mnist.read_idx_labels(pathlib.Path(folder, "t10k-labels-idx1-ubyte.gz"))[0] == 7
    # Now cached: a second lookup finds the files and does not download again.
    assert mnist.find_data_dir() == folder and len(net.urls) == len(mnist.FILES)


def test_download_falls_back_to_next_mirror_and_fetches_only_missing(tmp_path, monkeypatch):
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in list(mnist.FILES)[:3]:
        (dest / name).write_bytes(real_bytes(name))
    net = FakeNet(fail_prefixes=("https://a.invalid/",))
    monkeypatch.setattr(mnist, "urlopen", net)
    mnist.download(dest, mirrors=["https://a.invalid/", "https://b.invalid"])
    last = list(mnist.FILES)[3]
    assert net.urls == ["https://a.invalid/" + last, "https://b.invalid/" + last]
    assert (dest / last).read_bytes() == real_bytes(last)
    assert sorted(os.listdir(dest)) == sorted(mnist.FILES)


def test_download_checksum_mismatch_raises_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "urlopen", FakeNet(serve=lambda name: b"not mnist"))
    with pytest.raises(ValueError) as info:
        mnist.download(tmp_path / "dest")
    first = next(iter(mnist.FILES))
    message = str(info.value)
    assert first in message and mnist.FILES[first] in message
    assert hashlib.sha256(b"not mnist").hexdigest() in message
    assert os.listdir(tmp_path / "dest") == []


def test_download_broken_stream_leaves_no_file_and_tries_next_mirror(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            raise ConnectionResetError("connection reset mid-file")

    good = FakeNet()

    def flaky(url, timeout=None):
        return Broken() if url.startswith("https://a.invalid/") else good(url)

    monkeypatch.setattr(mnist, "urlopen", flaky)
    mnist.download(tmp_path / "dest", mirrors=["https://a.invalid/", "https://b.invalid/"])
    assert sorted(os.listdir(tmp_path / "dest")) == sorted(mnist.FILES)


def test_every_mirror_failing_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(mnist, "urlopen", FakeNet(fail_prefixes=("https://",)))
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert str(tmp_path / "env" / "mnist") in message and mnist.cache_dir() in message
    for base in mnist.MIRRORS:
        assert base in message
    assert "by hand" in message and "path=" in message
    assert os.listdir(mnist.cache_dir()) == []


# ---------------------------------------------------------------------------- corrupt files


def test_bad_magic(tmp_path):
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte.gz", 2049, (10,))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz has magic number 2049, expected 2051"):
        mnist.read_idx_images(labels)


def test_truncated_payload(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", 2051, (60000, 28, 28), bytes(1000))
    with pytest.raises(ValueError) as info:
        mnist.read_idx_images(path)
    assert str(info.value) == (f"minigrad.datasets.mnist: {path} is truncated: header says "
                               "60000x28x28 = 47040000 bytes of pixels, found 1000")


def test_extra_bytes_after_payload(tmp_path):
    path = write_idx(tmp_path / "labels.gz", 2049, (5,), bytes(7))
    with pytest.raises(ValueError, match=r"labels\.gz has extra bytes: header says 5 = 5 bytes of labels, found 7"):
        mnist.read_idx_labels(path)


def test_header_cut_short(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(struct.pack(">2i", 2051, 60000)))
    with pytest.raises(ValueError, match=r"images\.gz is truncated: an IDX header needs 16 bytes, found 8"):
        mnist.read_idx_images(path)


@pytest.mark.parametrize("make_bytes", [
    lambda raw: raw[:len(raw) // 2],                              # gzip stream cut short
    lambda raw: gzip.decompress(raw),                             # not compressed at all
    lambda raw: raw[:200] + bytes(len(raw) - 208) + raw[-8:],     # deflate data zeroed
    lambda raw: raw[:-8] + bytes(8),                              # CRC / size trailer wrong
], ids=["truncated-gzip", "not-gzip", "corrupt-deflate", "bad-crc"])
def test_bad_gzip_stream(tmp_path, make_bytes):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(make_bytes(real_bytes("t10k-labels-idx1-ubyte.gz")))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz is not a valid gzip stream"):
        mnist.read_idx_labels(path)


def test_image_and_label_counts_must_agree(tmp_path):
    folder = make_set(tmp_path / "set", n_train=3)
    write_idx(folder / "train-labels-idx1-ubyte.gz", 2049, (4,))
    with pytest.raises(ValueError, match=r"holds 3 images but .*train-labels-idx1-ubyte\.gz holds 4 labels"):
        mnist.load_data(folder)
