"""Download a file once: progress bar, resume with HTTP Range, size and SHA-256 checks.

The bytes go to ``<dest>.part``; only a transfer that completes *and* passes the checks
is renamed to ``dest`` (``os.replace``, atomic on one file system), so ``dest`` is
either absent or complete. A later call resumes a ``.part`` file where it stopped.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

__all__ = [
    "download",
    "sha256_file",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike, chunk_size: int = _CHUNK) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    chunk_size: int = _CHUNK,
) -> Path:
    """Fetch ``url`` to ``dest`` unless a verified copy is already there; return ``dest``.

    Resumes a previous partial transfer (``dest.part``) with a ``Range`` request; a server
    that ignores Range (status 200) restarts it from zero. After the transfer the size
    and SHA-256 are checked when given; a mismatch deletes the partial file and raises
    ValueError. Network failures raise ValueError naming the URL and keep the partial
    file so the next call resumes.
    """
    dest = Path(dest)
    if dest.is_file():
        if (size is None or dest.stat().st_size == size) and (
            sha256 is None or sha256_file(dest) == sha256
        ):
            return dest
        raise ValueError(
            f"{dest}: exists but does not match the expected size/checksum of {url}; "
            "delete it and download again."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0

    request = urllib.request.Request(url, headers={"User-Agent": "seqlab"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            # Nothing left to send: the partial file may already be whole; verify below.
            response = None
        else:
            raise ValueError(f"{url}: download failed (HTTP {exc.code} {exc.reason}).") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ValueError(f"{url}: download failed ({reason}).") from None

    if response is not None:
        with response:
            if have and response.status != 206:
                logger.info("%s ignored the Range request; starting again", url)
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else size
            mode = "ab" if have else "wb"
            bar = tqdm(
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
            )
            try:
                with open(part, mode) as handle, bar:
                    while block := response.read(chunk_size):
                        handle.write(block)
                        bar.update(len(block))
                    handle.flush()
                    os.fsync(handle.fileno())
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                raise ValueError(
                    f"{url}: download interrupted after {part.stat().st_size} bytes ({exc}); "
                    "run again to resume."
                ) from None

    got = part.stat().st_size
    if size is None and response is not None and total is not None and got < total:
        raise ValueError(f"{url}: download stopped at {got} of {total} bytes; run again to resume.")
    if size is not None and got != size:
        if got < size:
            raise ValueError(
                f"{url}: download stopped at {got} of {size} bytes; run again to resume."
            )
        part.unlink()
        raise ValueError(f"{url}: got {got} bytes, expected {size}; the partial file was removed.")
    if sha256 is not None:
        actual = sha256_file(part)
        if actual != sha256.lower():
            part.unlink()
            raise ValueError(
                f"{url}: SHA-256 {actual} does not match the expected {sha256}; "
                "the download was removed."
            )
    os.replace(part, dest)
    return dest
