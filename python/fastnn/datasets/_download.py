"""Downloading data files: mirror list, SHA-256 check, temporary file renamed on success.

Only called when a dataset is constructed with ``download=True``; nothing here runs otherwise.
"""

import hashlib
import os
import tempfile
import urllib.error
import urllib.request

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """No mirror served a file with the expected checksum."""


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(url: str, dest_dir: str, sha256: str, timeout: float) -> str:
    """Stream ``url`` into a temporary file in ``dest_dir``; return its path if the hash matches."""
    fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=dest_dir)
    try:
        h = hashlib.sha256()
        # Looked up at call time so tests (and proxies) can replace urllib.request.urlopen.
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while True:
                block = resp.read(_CHUNK)
                if not block:
                    break
                h.update(block)
                out.write(block)
        got = h.hexdigest()
        if got != sha256:
            raise DownloadError(f"checksum mismatch: sha256 {got}, expected {sha256}")
        return tmp
    except BaseException:
        os.unlink(tmp)
        raise


def download_file(filename: str, mirrors, sha256: str, dest_dir: str, timeout=60.0) -> str:
    """Download ``filename`` from the first mirror that serves it with the right SHA-256.

    The file is written to a temporary name in ``dest_dir`` and renamed only once verified, so an
    interrupted or corrupt download never leaves a file that looks complete.
    """
    os.makedirs(dest_dir, exist_ok=True)
    final = os.path.join(dest_dir, filename)
    failures = []
    for base in mirrors:
        url = base + filename
        try:
            tmp = _fetch(url, dest_dir, sha256, timeout)
        except (OSError, urllib.error.URLError, DownloadError, ValueError) as e:
            failures.append(f"  {url}: {e}")
            continue
        os.replace(tmp, final)
        return final
    raise DownloadError(
        f"could not download {filename}; tried:\n" + "\n".join(failures) + "\n"
        f"Download it yourself (sha256 {sha256}) and put it at {final}, "
        f"or point root= / FASTNN_DATA at a folder that has it."
    )
