"""Files in and out, safely: inputs that are regular files, outputs written all or nothing, and a
private cache whose every directory and file is checked on the open handle.

Failures are `OSError`s (`Refused` for what the file system allows but Warrant does not), so
the callers' existing "cannot read/write" handling words them; each layer maps them to its
own exit code (3 for a case, 4 for a kb file, 2 for an output path).
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory",
          stat.S_IFLNK: "a symbolic link"}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class Refused(OSError):
    """The file exists and can be opened, but Warrant will not read or write it."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(errno.EPERM, reason, os.fspath(path))


class TooLarge(Refused):
    """A regular file over the size limit; `size` is what it holds (at least)."""

    def __init__(self, path: str | os.PathLike[str], reason: str, size: int) -> None:
        super().__init__(path, reason)
        self.size = size


def kind_of(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


# ------------------------------------------------------------------------------------ inputs
def read_regular(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    The file is opened once, without blocking (a FIFO would otherwise wait forever for a
    writer), and the open handle is checked: a FIFO, device, socket or directory is refused,
    and no more than `limit + 1` bytes are ever read, whatever the size claims to be."""
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(path, f"{kind_of(info.st_mode)}, not a regular {what}")
        if info.st_size > limit:
            raise TooLarge(path, f"the {what} holds {info.st_size} bytes, more than the {limit} allowed",
                           info.st_size)
        if _NONBLOCK:
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:  # the file grew while it was read
        raise TooLarge(path, f"the {what} holds more than the {limit} bytes allowed", len(data))
    return data


def check_regular(path: str | os.PathLike[str], what: str = "file") -> None:
    """Refuse a path that exists but is not a regular file (following symbolic links), so that
    a stream or a directory walk never opens a FIFO or a device."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise Refused(path, f"{kind_of(info.st_mode)}, not a regular {what}")


# ------------------------------------------------------------------------------------ outputs
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` all or nothing.

    A fresh temporary file is created beside the target with O_EXCL (`mkstemp`, an
    unpredictable name no one can plant a link at), written, flushed to disk and renamed over
    the target. A target that exists and is not a regular file (a device, FIFO, socket or
    directory) is refused; a symbolic link at the target is replaced, never written through.
    The file gets `mode`, else the mode of the file it replaces, else 0666 less the umask."""
    target = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise Refused(target, f"{kind_of(info.st_mode)}; outputs are written to regular files only")
    if mode is None:
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    import tempfile  # only writers pay for it (it imports random and shutil)

    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".",
                               prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def open_append(path: str | os.PathLike[str], *, truncate: bool):
    """A binary handle for a growing output (batch results): created if missing, never through
    a symbolic link, never a FIFO or device."""
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC | (os.O_TRUNC if truncate else os.O_APPEND)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise Refused(path, f"{kind_of(info.st_mode)}; outputs are written to regular files only")
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(path, "a symbolic link; name the file itself") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Refused(path, f"{kind_of(info.st_mode)}; outputs are written to regular files only")
    if _NONBLOCK:
        os.set_blocking(fd, True)
    return os.fdopen(fd, "ab" if not truncate else "wb")


# ------------------------------------------------------------------------------------ cache
def _trusted_dir(info: os.stat_result, uid: int, last: bool) -> bool:
    """A directory on the way to the cache: owned by this user (or root above the cache folder),
    and not writable by others (a sticky folder such as /tmp is fine above it)."""
    if not stat.S_ISDIR(info.st_mode):
        return False
    if last:
        return info.st_uid == uid and not info.st_mode & 0o022
    if info.st_uid not in (uid, 0):
        return False
    return not info.st_mode & 0o022 or bool(info.st_mode & stat.S_ISVTX)


def _open_dir_chain(folder: Path, create: bool) -> int:
    """A handle on `folder`, reached from / one component at a time without following links,
    each component checked on its handle; raises Refused when one is not trusted."""
    if not (_NOFOLLOW and _DIRECTORY and os.open in os.supports_dir_fd and hasattr(os, "getuid")):
        raise Refused(folder, "this platform cannot check the cache folder safely")
    uid = os.geteuid()
    parts = Path(os.path.realpath(folder)).parts
    fd = os.open(parts[0], os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for index, part in enumerate(parts[1:], 1):
            last = index == len(parts) - 1
            if not _trusted_dir(os.fstat(fd), uid, False):
                raise Refused(folder, f"{os.path.join(*parts[:index])} can be changed by another user")
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o700, dir_fd=fd)
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = child
            if last and not _trusted_dir(os.fstat(fd), uid, True):
                raise Refused(folder, "the cache folder must belong to this user and be writable by no one else")
        return fd
    except BaseException:
        os.close(fd)
        raise


def read_private(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """The bytes of a cache file only this user can have written, else None.

    Every folder from / down is opened without following links and checked on its handle
    (owner, no write for others), then the file is opened relative to its folder's handle and
    checked the same way: nothing can be swapped between the check and the read."""
    path = Path(path)
    try:
        folder = _open_dir_chain(path.parent, create=False)
    except OSError:
        return None
    try:
        fd = os.open(path.name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022
                or info.st_size > limit):
            return None
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        if fd >= 0:
            os.close(fd)


def write_private(path: str | os.PathLike[str], data: bytes) -> bool:
    """Store a cache file (mode 0600) all or nothing in a folder only this user can change;
    False when that cannot be done safely (a cache that is not written only costs time)."""
    path = Path(path)
    try:
        folder = _open_dir_chain(path.parent, create=True)
    except OSError:
        return False
    tmp = f".{path.name}.{os.urandom(8).hex()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=folder)
            except OSError:
                pass
            raise
        return True
    except OSError:
        return False
    finally:
        os.close(folder)
