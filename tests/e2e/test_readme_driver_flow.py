"""The README's driver flow, exactly as written there, against a demo server this test starts
(`manage.py demo` on a free port, embedded mode: its own SQLite file, events in-process)."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
FLOW_HEADING = "### The driver flow, command by command"

pytestmark = pytest.mark.django_db(transaction=False)


def readme_driver_flow() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme[readme.index(FLOW_HEADING) :]
    return re.search(r"```sh\n(.*?)```", after, re.S).group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_env(tmp_path: Path) -> dict[str, str]:
    """A newcomer's environment: nothing set but the embedded database (a file of this test's own)."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def demo_server(tmp_path):
    if not (shutil.which("bash") and shutil.which("curl")):
        skip_or_fail("the README's commands need bash and curl")
    port = free_port()
    log = (tmp_path / "demo.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "demo", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=embedded_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            assert server.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the demo server did not start within 180 s"
            try:
                if requests.get(f"{base}/health/live", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        yield base, tmp_path / "demo.log"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_the_readme_driver_flow_runs_as_written(demo_server):
    base, log = demo_server
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", readme_driver_flow()],
        env={**os.environ, "API": f"{base}/api/v1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{log.read_text()[-3000:]}"
    out = result.stdout.splitlines()

    quote = next(line for line in out if "cents per kWh" in line)
    assert quote.startswith("59 EUR cents per kWh; 20 kWh: 1230 cents in 4 min at 300.0 kW"), quote

    energy = [int(line.split()[3]) for line in out if line.startswith("energy so far:")]
    assert len(energy) == 3 and energy[0] < energy[1] < energy[2], out  # the simulated charger meters the session

    stop = next(line for line in out if line.startswith("completed"))
    _, energy_status, stopped_wh, _ = stop.split()
    assert energy_status == "metered" and int(stopped_wh) >= energy[-1], stop

    paid = next(line for line in out if line.startswith("succeeded"))
    assert "EUR cents paid," in paid and paid.endswith("off with WELCOME10"), paid
    assert int(paid.split()[1]) > 0 and int(paid.split()[5]) > 0, paid  # a total paid, a discount taken

    history = [line for line in out if line.startswith("[(")]
    assert len(history) == 2 and "'completed'" in history[0] and "'paid'" in history[1], history


def test_the_demo_home_page_offers_a_connectors_qr_page(demo_server):
    base, _ = demo_server

    home = requests.get(f"{base}/", headers={"Accept": "text/html"}, timeout=10)

    qr_page = re.search(rf'href="({re.escape(base)}/c/[A-Z0-9]+)"', home.text)
    assert home.status_code == 200 and qr_page, home.text[:2000]
    assert requests.get(qr_page.group(1), timeout=10).status_code == 200
