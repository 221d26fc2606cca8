"""POST /telemetry/events refuses a body over TELEMETRY_MAX_BODY_BYTES with 413 problem+json: from its
Content-Length before reading anything, and while streaming a chunked body, reading at most the limit plus
one chunk. A 150 MB batch through a real HTTP server leaves the worker's memory flat."""

import io
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from apps.telemetry.models import Reading
from tests.telemetry.conftest import meter, recent

URL = "/api/v1/telemetry/events"
MB = 1024 * 1024
ATTACK_BYTES = 150 * MB


class CountingInput(io.RawIOBase):
    """A client body of `total` bytes, produced as it is read; counts what the server read."""

    def __init__(self, total: int):
        self.remaining = total
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        self.remaining -= size
        self.read_bytes += size
        return b"[" * size

    def readline(self, size=-1):
        return self.read(size)


def _call_wsgi(body: CountingInput, *, api_key: str, content_length: int | None, chunked: bool = False):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": URL,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Api-Key {api_key}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True  # the server de-chunks and delimits the body (gunicorn)
    status = {}

    def start_response(line, headers, exc_info=None):
        status["line"], status["headers"] = line, dict(headers)

    response = b"".join(WSGIHandler()(environ, start_response))
    return int(status["line"].split()[0]), status["headers"], response


@pytest.fixture
def api_key(api_key_for, operator_org):
    return api_key_for(operator_org)


def _assert_413(status, headers, body):
    assert status == 413, body[:300]
    assert headers["Content-Type"].startswith("application/problem+json")
    problem = orjson.loads(body)
    assert problem["status"] == 413 and problem["title"] and problem["detail"]


def test_a_declared_content_length_over_the_limit_is_413_before_reading(api_key, charger):
    body = CountingInput(ATTACK_BYTES)
    status, headers, response = _call_wsgi(body, api_key=api_key, content_length=ATTACK_BYTES)
    _assert_413(status, headers, response)
    assert body.read_bytes == 0
    assert Reading.objects.count() == 0


def test_a_chunked_body_is_cut_off_just_past_the_limit(settings, api_key, charger):
    body = CountingInput(ATTACK_BYTES)
    status, headers, response = _call_wsgi(body, api_key=api_key, content_length=None, chunked=True)
    _assert_413(status, headers, response)
    assert body.read_bytes <= settings.TELEMETRY_MAX_BODY_BYTES + 64 * 1024


def test_a_chunked_batch_within_the_limit_is_stored(api_key, charger):
    batch = orjson.dumps([meter(charger, ts=recent(5), energy_wh=42)])

    class Body(io.BytesIO):
        pass

    status, _, response = _call_wsgi(Body(batch), api_key=api_key, content_length=None, chunked=True)  # type: ignore[arg-type]
    assert status == 202, response
    assert Reading.objects.get().energy_wh == 42


def test_the_limit_is_a_setting(settings, operator_client, charger):
    batch = [meter(charger, ts=recent(i + 1), energy_wh=i) for i in range(20)]
    assert len(orjson.dumps(batch)) > 2_000
    settings.TELEMETRY_MAX_BODY_BYTES = 2_000
    response = operator_client.post(URL, batch, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    settings.TELEMETRY_MAX_BODY_BYTES = 2 * MB
    assert operator_client.post(URL, batch, format="json").status_code == 202


def test_a_full_batch_of_1000_readings_fits_the_default_limit(settings, operator_client, charger):
    batch = [meter(charger, ts=recent(i + 1), energy_wh=i, power_w=22_000, voltage_v=400.5) for i in range(1000)]
    assert len(orjson.dumps(batch)) < settings.TELEMETRY_MAX_BODY_BYTES
    assert operator_client.post(URL, batch, format="json").status_code == 202


# --- through a real HTTP server (gunicorn, one sync worker), with a 150 MB body ---


def _memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def http_server():
    """gunicorn serving the app against this test's database; yields (port, worker pid)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "EVENTS_TRANSPORT": "inline", "SECURE_SSL_REDIRECT": "false"}
    env.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "evcharge.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "120"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
                if children:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)
        yield port, int(children[0])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _post_raw(port: int, headers: list[str], body_chunks, *, chunked: bool) -> tuple[int, bytes, int]:
    """Sends the request, streaming the body until the server answers; returns (status, response, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sent = 0
    try:
        head = ["POST " + URL + " HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", *headers]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for chunk in body_chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        response = b""
        while b"\r\n\r\n" not in response or len(response) < _expected_length(response):
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            response += data
    finally:
        sock.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return status, response, sent


def _expected_length(response: bytes) -> int:
    head, _, _ = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":")[1])
    return len(response) + 1


def _chunks(total: int, size: int = 256 * 1024):
    piece = b" " * size
    for _ in range(total // size):
        yield piece


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("framing", "expected"),
    [
        ("content-length", 413),  # declared: refused before any byte is read
        ("chunked", 413),  # streamed: cut off just past the limit
        ("lying-content-length", 400),  # says 1 kB, sends 150 MB: the server reads 1 kB (not JSON)
    ],
)
def test_a_150_mb_telemetry_body_leaves_the_worker_memory_flat(http_server, api_key, charger, framing, expected):
    port, worker = http_server
    auth = f"Authorization: Api-Key {api_key}"
    warm = orjson.dumps([meter(charger, ts=recent(3), energy_wh=1)])
    status, response, _ = _post_raw(port, [auth, f"Content-Length: {len(warm)}"], [warm], chunked=False)
    assert status == 202, response[:500]
    before = _memory_kb(worker)["VmRSS"]
    Path(f"/proc/{worker}/clear_refs").write_text("5")  # resets the worker's peak RSS to its current RSS

    headers = {
        "content-length": [auth, f"Content-Length: {ATTACK_BYTES}"],
        "chunked": [auth, "Transfer-Encoding: chunked"],
        "lying-content-length": [auth, "Content-Length: 1024"],
    }[framing]
    status, response, sent = _post_raw(port, headers, _chunks(ATTACK_BYTES), chunked=framing == "chunked")

    assert status == expected, response[:500]
    assert b"application/problem+json" in response
    peak = _memory_kb(worker)["VmHWM"]
    assert (peak - before) < 20 * 1024, f"worker peak RSS grew {(peak - before) // 1024} MB ({sent} bytes sent)"
    assert Reading.objects.count() == 1
