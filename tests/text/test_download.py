"""download() against a real HTTP server on 127.0.0.1 serving bytes the test made."""

import hashlib
import http.server
import threading

import pytest

from seqlab.text import download, sha256_file

PAYLOAD = bytes(range(256)) * 2000  # 512,000 bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD with Range support; can drop the connection mid-body once."""

    def do_GET(self):
        server = self.server
        server.ranges.append(self.headers.get("Range"))
        start = 0
        if server.honour_range and self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(server.payload):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(server.payload) - 1}/*")
        else:
            self.send_response(200)
        body = server.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut_after is not None:
            self.wfile.write(body[: server.cut_after])
            self.wfile.flush()
            server.cut_after = None
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.payload, httpd.ranges, httpd.cut_after, httpd.honour_range = PAYLOAD, [], None, True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server):
    return f"http://127.0.0.1:{server.server_address[1]}/aclImdb_v1.tar.gz"


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_download_verifies_and_skips_a_complete_copy(server, tmp_path):
    dest = tmp_path / "cache" / "data.tar.gz"
    assert download(_url(server), dest, sha256=SHA, size=len(PAYLOAD), progress=False) == dest
    assert dest.read_bytes() == PAYLOAD and sha256_file(dest) == SHA
    assert not dest.with_name("data.tar.gz.part").exists()
    download(_url(server), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert len(server.ranges) == 1  # the second call found it complete


def test_interrupted_transfer_resumes_with_range(server, tmp_path):
    dest = tmp_path / "data.tar.gz"
    part = tmp_path / "data.tar.gz.part"
    server.cut_after = 100_000
    with pytest.raises(ValueError, match="run again to resume"):
        download(_url(server), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert not dest.exists()  # no partial file where the complete one belongs
    assert part.stat().st_size == 100_000
    download(_url(server), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert server.ranges == [None, "bytes=100000-"]
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    dest = tmp_path / "data.tar.gz"
    dest.with_name("data.tar.gz.part").write_bytes(b"garbage" * 10)
    server.honour_range = False
    download(_url(server), dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_removes_the_download(server, tmp_path):
    dest = tmp_path / "data.tar.gz"
    with pytest.raises(ValueError, match="SHA-256"):
        download(_url(server), dest, sha256="0" * 64, progress=False)
    assert not dest.exists() and not dest.with_name("data.tar.gz.part").exists()


def test_wrong_existing_file_and_http_errors(server, tmp_path):
    dest = tmp_path / "data.tar.gz"
    dest.write_bytes(b"short")
    with pytest.raises(ValueError, match="does not match"):
        download(_url(server), dest, size=len(PAYLOAD), progress=False)
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(ValueError, match="download failed"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "y", progress=False, timeout=5)
