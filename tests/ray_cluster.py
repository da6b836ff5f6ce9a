"""A real multi-node Ray cluster on 127.0.0.1, started with ``ray start`` as a user would.

Each node is a ``ray start --block`` process with ports of its own (free ones, so parallel runs and
other Ray users on the machine do not collide), stopped by SIGKILL of that process and everything
it started (``testlib.kill_tree``), never by ``ray stop``, which would stop every Ray on the machine.
Token authentication stays on (Ray's default): the cluster gets a token of its own in its temporary
folder, which every node and the driver (``env``) read through ``RAY_AUTH_TOKEN_PATH``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from testlib import descendants, kill_tree

RAY = str(Path(sys.executable).with_name("ray"))


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _node_ports() -> list[str]:
    p = free_ports(7)
    return ["--node-manager-port", str(p[0]), "--object-manager-port", str(p[1]),
            "--dashboard-agent-grpc-port", str(p[2]), "--dashboard-agent-listen-port", str(p[3]),
            "--metrics-export-port", str(p[4]), "--runtime-env-agent-port", str(p[5]),
            "--worker-port-list", ",".join(str(x) for x in free_ports(16))]  # driver, actors, restarts


class RayCluster:
    """``head()`` then ``worker()``; ``close()`` (always: use it as a context manager) kills all."""

    def __init__(self, temp_dir: Path) -> None:
        self.temp_dir = temp_dir
        temp_dir.mkdir(parents=True, exist_ok=True)
        token = temp_dir / "auth_token"
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                    "RAY_AUTH_TOKEN_PATH": str(token)}
        self.nodes: list[subprocess.Popen[str]] = []
        self.address = ""
        self.pids: list[int] = []  # every process a kill took down, to check that none survived

    def head(self, cpus: int = 1) -> None:
        port, client = free_ports(2)
        self.address = f"127.0.0.1:{port}"
        self._start(["--head", "--port", str(port), "--ray-client-server-port", str(client),
                     "--include-dashboard", "false", "--temp-dir", str(self.temp_dir)], cpus)

    def worker(self, cpus: int = 1, wrap: list[str] | None = None) -> subprocess.Popen[str]:
        """A worker node; ``wrap`` prefixes its command (e.g. to run it in a mount namespace)."""
        return self._start(["--address", self.address], cpus, wrap or [])

    def _start(self, args: list[str], cpus: int, wrap: list[str] | None = None) -> subprocess.Popen[str]:
        cmd = [*(wrap or []), RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus),
               "--num-gpus", "0", "--object-store-memory", str(80 * 2**20), "--disable-usage-stats",
               *_node_ports(), *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        self.nodes.append(proc)
        assert proc.stdout is not None
        seen = []
        deadline = time.monotonic() + 180
        for line in proc.stdout:  # --block prints this once the node is up, then stays in the foreground
            seen.append(line)
            if "Ray runtime started" in line or time.monotonic() > deadline:
                break
        if proc.poll() is not None or "Ray runtime started" not in "".join(seen):
            raise RuntimeError(f"ray start failed: {''.join(seen)[-2000:]}")
        return proc

    def kill(self, node: subprocess.Popen[str]) -> None:
        self.pids += [*descendants(node.pid), node.pid]
        kill_tree(node)

    def close(self) -> None:
        for node in reversed(self.nodes):
            self.kill(node)

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
