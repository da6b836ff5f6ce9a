"""A REAL OpenSSH server on 127.0.0.1 for the deploy tests (no mock of SSH).

``start_sshd(folder)`` makes temporary host and user keys with ``ssh-keygen``, an
``authorized_keys`` holding the user key, and runs ``sshd -D -e -f CONFIG`` on a free port,
allowing key login (only) for the user running the tests (root in CI). ``kill_sessions`` SIGKILLs
the per-connection sshd processes: a connection dropped mid-transfer, as a pulled cable would.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True,
                   capture_output=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sshd:
    folder: Path
    port: int
    host_key: Path
    user_key: Path
    user: str
    proc: subprocess.Popen

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        kill_sessions(self)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        return (self.folder / "sshd.log").read_text(errors="replace")


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry))
    return out


def kill_sessions(server: Sshd) -> int:
    """SIGKILL every process below the listening sshd (the connections); returns how many."""
    todo, found = [server.proc.pid], []
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(found)


def start_sshd(folder: Path, host_key: Path | None = None, port: int | None = None) -> Sshd:
    if not Path(SSHD).is_file() or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH server not installed (make test installs openssh-server)")
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
    elif not Path("/run/sshd").is_dir():
        pytest.skip("sshd needs /run/sshd (run the tests as root, as CI does)")
    host_key = host_key or keygen(folder / "host_ed25519", "test-host")
    user_key = folder / "user_ed25519"
    if not user_key.exists():
        keygen(user_key, "test-user")
    auth = folder / "authorized_keys"
    auth.write_text((folder / "user_ed25519.pub").read_text())
    auth.chmod(0o600)
    port = port or free_port()
    user = getpass.getuser()
    config = folder / "sshd_config"
    config.write_text(f"""
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile none
AuthorizedKeysFile {auth}
AllowUsers {user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
    log = open(folder / "sshd.log", "ab")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {(folder / 'sshd.log').read_text()[-800:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("sshd did not start listening")
    return Sshd(folder, port, host_key, user_key, user, proc)
