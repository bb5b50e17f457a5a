"""Downloading the published set offline: file URLs and a local HTTP server on 127.0.0.1."""

import hashlib
import http.server
import sys
import threading
from functools import partial

import pytest

from alphaflops.datasets import download_t2000, load_dataset
from alphaflops.datasets.download import T2000_FILE_NAME, default_cache_dir
from alphaflops.errors import ChecksumError

PAYLOAD = b"measurements " * 1000
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def server_root(tmp_path, monkeypatch):
    """Folder served over HTTP on 127.0.0.1; yields (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _source_file(tmp_path, data=PAYLOAD):
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    return path


def test_file_url_download_is_cached(tmp_path):
    cache = tmp_path / "cache"

    path = download_t2000(cache_dir=cache, url=_source_file(tmp_path).as_uri(), sha256=PAYLOAD_SHA256)

    assert path == cache / T2000_FILE_NAME
    assert path.read_bytes() == PAYLOAD


def test_valid_cache_skips_download(tmp_path):
    cache = tmp_path / "cache"
    download_t2000(cache_dir=cache, url=_source_file(tmp_path).as_uri(), sha256=PAYLOAD_SHA256)
    missing = (tmp_path / "gone.bin").as_uri()

    path = download_t2000(cache_dir=cache, url=missing, sha256=PAYLOAD_SHA256)

    assert path.read_bytes() == PAYLOAD


def test_force_downloads_again(tmp_path):
    cache = tmp_path / "cache"
    download_t2000(cache_dir=cache, url=_source_file(tmp_path).as_uri(), sha256=PAYLOAD_SHA256)
    missing = (tmp_path / "gone.bin").as_uri()

    with pytest.raises(OSError, match="download of .* failed"):
        download_t2000(cache_dir=cache, url=missing, force=True, sha256=PAYLOAD_SHA256)


def test_checksum_mismatch_leaves_no_file(tmp_path):
    cache = tmp_path / "cache"
    corrupted = _source_file(tmp_path, PAYLOAD[:-1] + b"!")

    with pytest.raises(ChecksumError, match=f"expected {PAYLOAD_SHA256}"):
        download_t2000(cache_dir=cache, url=corrupted.as_uri(), sha256=PAYLOAD_SHA256)

    assert list(cache.iterdir()) == []


def test_corrupted_cache_replaced(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / T2000_FILE_NAME).write_bytes(b"damaged")

    path = download_t2000(cache_dir=cache, url=_source_file(tmp_path).as_uri(), sha256=PAYLOAD_SHA256)

    assert path.read_bytes() == PAYLOAD


def test_corrupted_cache_removed_on_mismatch(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / T2000_FILE_NAME).write_bytes(b"damaged")
    corrupted = _source_file(tmp_path, b"also wrong")

    with pytest.raises(ChecksumError):
        download_t2000(cache_dir=cache, url=corrupted.as_uri(), sha256=PAYLOAD_SHA256)

    assert list(cache.iterdir()) == []


def test_http_download_from_local_server(tmp_path, server_root):
    root, base_url = server_root
    (root / "data.pickle").write_bytes(PAYLOAD)

    path = download_t2000(cache_dir=tmp_path / "cache", url=f"{base_url}/data.pickle", sha256=PAYLOAD_SHA256)

    assert path.read_bytes() == PAYLOAD


def test_http_corrupted_download_leaves_no_file(tmp_path, server_root):
    root, base_url = server_root
    (root / "data.pickle").write_bytes(PAYLOAD[: len(PAYLOAD) // 2])
    cache = tmp_path / "cache"

    with pytest.raises(ChecksumError):
        download_t2000(cache_dir=cache, url=f"{base_url}/data.pickle", sha256=PAYLOAD_SHA256)

    assert list(cache.iterdir()) == []


def test_http_missing_file_raises(tmp_path, server_root):
    _, base_url = server_root

    with pytest.raises(OSError, match="404"):
        download_t2000(cache_dir=tmp_path / "cache", url=f"{base_url}/absent.pickle", sha256=PAYLOAD_SHA256)


def test_environment_variable_sets_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPHAFLOPS_CACHE", str(tmp_path / "env-cache"))

    path = download_t2000(url=_source_file(tmp_path).as_uri(), sha256=PAYLOAD_SHA256)

    assert default_cache_dir() == tmp_path / "env-cache"
    assert path == tmp_path / "env-cache" / T2000_FILE_NAME


def test_default_cache_is_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("ALPHAFLOPS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    folder = default_cache_dir()

    if sys.platform.startswith("linux"):
        assert folder == tmp_path / "xdg" / "alphaflops"
    assert "alphaflops" in folder.parts


def test_published_file_downloads_and_loads(t2000_path, tmp_path, server_root):
    root, base_url = server_root
    (root / "data.pickle").write_bytes(t2000_path.read_bytes())

    path = download_t2000(cache_dir=tmp_path / "cache", url=f"{base_url}/data.pickle")
    dataset = load_dataset(path)

    assert len(dataset) == 721
    assert dataset.sha256 == "d63822d60e1002bdbdb881acf58f1aa0c2b843d81ae577cd8b80c25a3cce62a6"
