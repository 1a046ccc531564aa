"""What every model-file format shares: the error for a file that cannot be read, and atomic writes.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> atomic_write(os.path.join(folder, "a.bin"), b"abc")
>>> os.listdir(folder)  # no temporary file left beside it
['a.bin']
"""
import os
import secrets


class ModelFileError(ValueError):
    """A model file that cannot be read: the message names the file and what is wrong."""


def atomic_write(path, data):
    """Write ``data`` to a temporary file next to ``path``, flush it to disk, then rename it
    over ``path`` (atomic on POSIX and Windows): readers see the old file or the new one."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through an existing file or link; 0o666 & umask, as open() would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def weights_mismatch(path, missing, unexpected):
    """The ModelFileError for a file whose weight names differ from the model's."""
    return ModelFileError(
        f"{path}: the weights do not match the model: "
        + (f"missing from the file: {missing}" if missing else "")
        + ("; " if missing and unexpected else "")
        + (f"in the file but not in the model: {unexpected}" if unexpected else ""))


__all__ = ["ModelFileError", "atomic_write", "weights_mismatch"]
