"""Download the published T2000 set into a user cache folder, checked by SHA-256."""

import hashlib
import logging
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from alphaflops.datasets.published import T2000_SHA256
from alphaflops.errors import ChecksumError

logger = logging.getLogger(__name__)

#: Public address of the published ``data.pickle`` (default branch ``main``).
DEFAULT_URL = "https://github.com/asperti/alpha_flops_dataset/raw/main/data.pickle"

#: Environment variable that replaces the user cache folder.
CACHE_VARIABLE = "ALPHAFLOPS_CACHE"

#: File name of the published set inside the cache folder.
T2000_FILE_NAME = "t2000-data.pickle"

_CHUNK_BYTES = 1 << 16
_TIMEOUT_SECONDS = 60


def default_cache_dir():
    """Return the alphaflops cache folder (not created).

    ``$ALPHAFLOPS_CACHE`` when set; otherwise the platform's user cache:
    ``%LOCALAPPDATA%\\alphaflops\\Cache`` on Windows,
    ``~/Library/Caches/alphaflops`` on macOS and
    ``$XDG_CACHE_HOME/alphaflops`` (default ``~/.cache/alphaflops``) elsewhere.
    """
    override = os.environ.get(CACHE_VARIABLE)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base) / "alphaflops" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "alphaflops"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "alphaflops"


def file_sha256(path):
    """Return the SHA-256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_t2000(cache_dir=None, url=DEFAULT_URL, force=False, sha256=T2000_SHA256):
    """Return the path of the published T2000 pickle, downloading it if needed.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Folder for the file; default :func:`default_cache_dir` (``$ALPHAFLOPS_CACHE``
        or the user cache folder). Created if missing.
    url : str
        Address to download from; ``file://`` and ``http(s)://`` URLs work.
    force : bool
        Download again even when a cached file with the right checksum exists.
    sha256 : str
        Expected SHA-256 hex digest of the file.

    Returns
    -------
    pathlib.Path
        ``cache_dir / "t2000-data.pickle"``, whose SHA-256 equals ``sha256``.

    Raises
    ------
    ChecksumError
        If the downloaded data has another SHA-256. The download is not
        cached. A valid cached file kept by ``force`` stays, and an invalid
        one has already been removed.
    OSError
        If the download fails (``urllib.error.URLError`` is an OSError).
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / T2000_FILE_NAME
    expected = sha256.lower()
    if target.exists() and not force:
        if file_sha256(target) == expected:
            return target
        logger.warning("cached %s has the wrong SHA-256; removing it and downloading again", target)
        target.unlink()

    folder.mkdir(parents=True, exist_ok=True)
    download_file(url, target, expected)
    return target


def download_file(url, target, sha256):
    """Download ``url`` to ``target`` atomically, checking its SHA-256.

    The data goes to a temporary file in the target's folder. It replaces
    ``target`` only when its digest equals ``sha256``. Otherwise it is
    removed and :class:`~alphaflops.errors.ChecksumError` is raised.
    """
    target = Path(target)
    logger.info("downloading %s to %s", url, target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as output:
            digest, size = _copy_url(url, output)
        if digest != sha256:
            raise ChecksumError(
                f"download of {url} failed: SHA-256 is {digest}, expected {sha256} ({size} bytes received); "
                "the file was not cached. Retry, or download it by hand and check its SHA-256."
            )
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("downloaded %s (%d bytes, SHA-256 verified)", target, size)


def _copy_url(url, output):
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
                output.write(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as error:
        raise OSError(f"download of {url} failed: HTTP {error.code} {error.reason}; check the address") from error
    except urllib.error.URLError as error:
        raise OSError(f"download of {url} failed: {error.reason}; check the address and the network") from error
    return digest.hexdigest(), size
