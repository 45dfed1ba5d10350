"""A real OpenSSH sshd on 127.0.0.1 playing the backup router, for the sync tests.

The `backup` fixture starts `/usr/sbin/sshd -D` with its own host key and
authorized_keys in a directory under /run (StrictModes refuses /tmp, see
reference/platform.md §5) and a `backup.root` directory standing for the backup's
file system. Teardown kills sshd and every session it forked, by pid, and
removes the directory, even when the test failed. Other sync test modules import
the fixtures from here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lbconfig import sync
from lbconfig.models import Revision, SyncTarget

SSHD = Path("/usr/sbin/sshd")
CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {dir}/host_ed25519
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


@dataclass
class Backup:
    """A running sshd and the directory that stands for the backup's disk."""

    dir: Path
    port: int
    host_key: sync.HostKey
    process: subprocess.Popen[bytes]
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = self.dir / "backup"

    def authorize(self, public_line: str) -> None:
        with (self.dir / "authorized_keys").open("a") as handle:
            handle.write(public_line + "\n")

    def log(self) -> str:
        return (self.dir / "sshd.log").read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Pids of every process below pid (sshd's sessions call setsid())."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    for pid in [*descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=5)


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"sshd did not listen on {port}: {log.read_text()}")


def write_host_key(directory: Path) -> sync.HostKey:
    private, public = sync.generate_key("test-backup")
    path = directory / "host_ed25519"
    path.write_text(private)
    path.chmod(0o600)
    key = sync.parse_host_key(public)
    return sync.HostKey(" ".join(public.split()[:2]), key.fingerprint)


@contextmanager
def running_backup() -> Iterator[Backup]:
    """Start sshd on a free loopback port; on the way out stop it and remove all."""
    # sshd needs its privilege separation directory; /run is a tmpfs.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="piranha-test-sshd-", dir="/run"))
    process: subprocess.Popen[bytes] | None = None
    try:
        directory.chmod(0o755)  # StrictModes, and `nobody` must read its keys
        (directory / "authorized_keys").touch(mode=0o644)
        (directory / "backup").mkdir(mode=0o755)
        host_key, port = write_host_key(directory), free_port()
        (directory / "sshd_config").write_text(CONFIG.format(port=port, dir=directory))
        log = directory / "sshd.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", directory / "sshd_config"], stderr=out
            )
        wait_listening(port, process, log)
        yield Backup(directory, port, host_key, process)
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def backup() -> Iterator[Backup]:
    if not SSHD.exists():
        pytest.skip("openssh-server is not installed (make apt)")
    with running_backup() as running:
        yield running


def configure(backup: Backup, user: str = "root", port: int | None = None) -> None:
    """Point the sync at the test backup, with a new key it accepts and its host key."""
    SyncTarget.objects.filter(pk=SyncTarget.load().pk).update(
        host="127.0.0.1",
        port=port or backup.port,
        user=user,
        remote_path=str(backup.root / "lvs.cf"),
    )
    backup.authorize(sync.save_new_key("test"))
    sync.confirm_host_key(backup.host_key.line, backup.host_key.fingerprint, "test")


class CuttingProxy:
    """A TCP relay to sshd that cuts both sides after `limit` bytes upstream."""

    def __init__(self, port: int, limit: int) -> None:
        self.upstream, self.limit, self.sent = port, limit, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = [self.listener]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        server = socket.create_connection(("127.0.0.1", self.upstream))
        self.sockets += [client, server]
        for args in ((client, server, True), (server, client, False)):
            thread = threading.Thread(target=self._pump, args=args, daemon=True)
            self.threads.append(thread)
            thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while data := src.recv(65536):
                if up:
                    self.sent += len(data)
                    if self.sent > self.limit:
                        break
                dst.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def revision(text: str) -> Revision:
    """A published revision of `text`, as a sync gets it."""
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Revision.objects.create(serial_no=2, text=text, sha256=sha, path="lvs.cf")


def put(path: Path, data: bytes, mode: int = 0o640) -> Path:
    """A file the backup already has, with its own mode and group."""
    path.write_bytes(data)
    path.chmod(mode)
    os.chown(path, 0, 4)  # group adm: the owner must survive the sync
    return path


def listing(backup: Backup) -> list[str]:
    return sorted(p.name for p in backup.root.iterdir())


@pytest.fixture
def cutting_proxy(backup: Backup) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(backup.port, limit=400_000)
    try:
        yield proxy
    finally:
        proxy.close()
        for thread in proxy.threads:
            thread.join(timeout=5)


def test_the_fixture_stops_sshd_and_its_sessions(backup, db):
    configure(backup)
    with sync.session(SyncTarget.load()) as (_, sftp):
        sftp.listdir(str(backup.root))
        children = descendants(backup.process.pid)
        assert children, "an SSH session runs in a child of sshd"
        stop(backup.process)
    # SIGKILL is delivered asynchronously: give the kernel a bounded moment.
    deadline = time.monotonic() + 5
    while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [pid for pid in children if alive(pid)]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that does not reap (PID 1 here)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
