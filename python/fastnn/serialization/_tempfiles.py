"""Temporary files of an atomic save: created beside the target, named after the writer's pid,
locked while written; the ones a dead writer left behind are removed by the next save.

A temporary is stale only when its writer is gone: the pid in its name is not a live process
(on this host) AND nobody holds the lock on it (which also covers writers whose pid is not
visible here, e.g. another host or pid namespace on a shared folder). A live writer holds its
lock from the moment its file exists until it renamed or removed it, so its file is never taken.
"""

import contextlib
import os
import re
import stat
import tempfile

try:
    import fcntl
except ImportError:  # no advisory locks (Windows): the pid check alone decides
    fcntl = None


def _prefix(base):
    return f".{base}."


def create(folder, base):
    """A new locked temporary for the target ``base`` in ``folder``: (fd, path)."""
    fd, tmp = tempfile.mkstemp(prefix=f"{_prefix(base)}{os.getpid()}.", suffix=".tmp", dir=folder)
    if fcntl is not None:  # a file system without flock: liveness by pid only
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd, tmp


def _pid_alive(pid):
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale(folder, base):
    """Remove the temporaries of ``base`` in ``folder`` whose writer is dead."""
    pattern = re.compile(re.escape(_prefix(base)) + r"(\d+)\.[^/]*\.tmp\Z")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        tmp = os.path.join(folder, name)
        try:
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a writer still holds it
                except OSError:
                    pass
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        finally:
            os.close(fd)


def _umask():
    # Read without changing it (os.umask(x) would race with other threads creating files).
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    old = os.umask(0o022)
    os.umask(old)
    return old


def set_mode_like(fd, path):
    """Give the temporary the permission bits of the file it will replace, or the ones a new
    file gets under the umask (mkstemp makes it 0600)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.fchmod(fd, mode)


def fsync_folder(folder):
    """Make the rename durable: fsync the directory entry (not possible everywhere)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path, write):
    """Call ``write(binary_file)`` on a temporary beside ``path``, then rename it over ``path``:
    a crash at any moment leaves either the old file or the new one, never a partial one."""
    path = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(path)
    remove_stale(folder, base)
    fd, tmp = create(folder, base)
    try:
        set_mode_like(fd, path)
        with os.fdopen(fd, "wb") as out:  # closing it releases the writer's lock
            write(out)
            out.flush()
            os.fsync(out.fileno())
            os.replace(tmp, path)
        fsync_folder(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
