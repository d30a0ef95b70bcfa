"""`hrms dev` as a real background process: SIGTERM and SIGINT stop it cleanly, and promptly.

Started the way a script starts it (`hrms dev &`): POSIX shells start a background job with SIGINT
ignored, which Python keeps, so `kill -INT` used to do nothing there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from hrms_tools.local.stack import free_port
from tests.conftest import ROOT

HRMS = Path(sys.executable).with_name("hrms")  # the console script `make install` puts in the venv
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 15


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def running_dev(data_dir: Path, *options: str) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """`hrms dev <options>` as a real process, healthy: (process, base URL, its log). Stopped with SIGINT (then
    killed) on the way out if the test has not stopped it, so its servers never outlive a failed test."""
    port = free_port()
    log = data_dir.parent / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(HRMS), "dev", "--data-dir", str(data_dir), "--port", str(port), *options],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"hrms dev exited {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"hrms dev not healthy in {START_TIMEOUT_S} s:\n{log.read_text()}"
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        yield process, base, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def postmaster(pgdata: Path) -> int:
    """The pid of the PostgreSQL server of `pgdata`: it detaches from `hrms dev` (pg_ctl start)."""
    return int((pgdata / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hrms-dev-signal-"))
    path.chmod(0o755)  # PostgreSQL runs as its own system user
    yield path / "hrms"
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_dev_in_the_background_stops_cleanly_on(signum: signal.Signals, data_dir: Path) -> None:
    port = free_port()
    log = data_dir.parent / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(HRMS), "dev", "--data-dir", str(data_dir), "--port", str(port), "--no-reload", "--no-schedules"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
            start_new_session=True,  # not in pytest's process group: only our signal reaches it
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `sh -c 'hrms dev &'` does
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"hrms dev exited {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"hrms dev not healthy in {START_TIMEOUT_S} s:\n{log.read_text()}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        servers = _children(process.pid) | {postmaster}  # PostgreSQL detaches from us (pg_ctl start)
        assert (data_dir / "env.json").exists()

        stopped_at = time.monotonic()
        process.send_signal(signum)
        returncode = process.wait(timeout=STOP_TIMEOUT_S)
        took = time.monotonic() - stopped_at

        output = log.read_text()
        assert returncode == 0, output
        assert "Stopping..." in output
        assert "Traceback" not in output, output
        assert took < STOP_TIMEOUT_S
        assert not (data_dir / "env.json").exists(), "a stale env.json would point the CLI at dead servers"
        still_running = {pid for pid in servers if _alive(pid)}
        assert still_running == set(), f"servers left running: {still_running} (took {took:.1f} s)\n{output}"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
