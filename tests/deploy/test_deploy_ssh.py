"""``sim2real deploy`` against a REAL OpenSSH server on 127.0.0.1 (tests/deploy/sshd.py): host-key
policy (first contact, recorded key, changed key refused), user keys (unknown key refused), push,
verify, atomic switch, rollback, status, a connection killed mid-upload and resumed, a bundle
with a ``../`` member refused, and the bundle's runner executed on the "device" with onnxruntime.

The "device" is this machine through sshd, its deploy root a temporary folder, its python this
venv's (it has numpy and onnxruntime, which is all the runner needs)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from sim2real.deploy import remote
from sim2real.deploy.edge.bundle import sha256_file
from sim2real.deploy.ssh import Auth, Target
from sim2real.errors import RemoteError
from sim2real.progress import Reporter
from sshd import keygen, kill_sessions

pytestmark = pytest.mark.ssh


def opts(server, kh: Path, root: Path, *extra: str, identity: Path | None = None) -> list[str]:
    return ["--target", server.target, "--identity", str(identity or server.user_key), "--known-hosts", str(kh),
            "--root", str(root), "--python", sys.executable, *extra]


@pytest.fixture
def known(sshd, tmp_path: Path) -> Path:
    """A known_hosts file that already trusts the test server."""
    kh = tmp_path / "known_hosts"
    pub = Path(f"{sshd.host_key}.pub").read_text().split()
    kh.write_text(f"[127.0.0.1]:{sshd.port} {pub[0]} {pub[1]}\n")
    return kh


def test_first_contact_needs_the_flag_and_is_recorded(sshd, bundle_b: Path, tmp_path: Path, run_cli) -> None:
    kh, root = tmp_path / "ssh" / "known_hosts", tmp_path / "device"
    r = run_cli("deploy", "push", str(bundle_b), *opts(sshd, kh, root))
    assert r.returncode == 2 and "unknown host key SHA256:" in r.stderr and "--accept-new-host-key" in r.stderr
    assert not kh.exists() and not root.exists()
    r = run_cli("deploy", "status", *opts(sshd, kh, root, "--accept-new-host-key", "--json"))
    assert r.returncode == 0, r.stderr
    line = kh.read_text().strip()
    algo, blob = Path(f"{sshd.host_key}.pub").read_text().split()[:2]
    assert line == f"[127.0.0.1]:{sshd.port} {algo} {blob}" and oct(kh.stat().st_mode & 0o777) == "0o600"
    status = json.loads(r.stdout)
    assert status["current"] is None and status["releases"] == [] and status["device"]["jetson"] is False
    r = run_cli("deploy", "status", *opts(sshd, kh, root))  # now known: no flag needed
    assert r.returncode == 0 and "not a Jetson" in r.stdout and "no release yet" in r.stdout


def test_changed_host_key_is_refused_even_with_the_flag(sshd, bundle_b: Path, tmp_path: Path, run_cli) -> None:
    other = keygen(tmp_path / "other_host", "someone-else")
    kh = tmp_path / "known_hosts"
    algo, blob = Path(f"{other}.pub").read_text().split()[:2]
    kh.write_text(f"[127.0.0.1]:{sshd.port} {algo} {blob}\n")
    r = run_cli("deploy", "push", str(bundle_b), *opts(sshd, kh, tmp_path / "device", "--accept-new-host-key"))
    assert r.returncode == 1 and "HOST KEY CHANGED" in r.stderr and "ssh-keygen -R" in r.stderr
    assert kh.read_text() == f"[127.0.0.1]:{sshd.port} {algo} {blob}\n"  # untouched
    assert not (tmp_path / "device").exists()


def test_unknown_user_key_is_refused(sshd, known: Path, bundle_b: Path, tmp_path: Path, run_cli) -> None:
    stranger = keygen(tmp_path / "stranger", "stranger")
    r = run_cli("deploy", "push", str(bundle_b), *opts(sshd, known, tmp_path / "device", identity=stranger))
    assert r.returncode == 1 and "permission denied" in r.stderr and str(stranger) in r.stderr
    assert "PRIVATE KEY" not in r.stderr + r.stdout and not (tmp_path / "device").exists()


def test_push_verify_switch_rollback_status_bench(sshd, known: Path, bundle_a: Path, bundle_b: Path, tmp_path: Path,
                                                  run_cli) -> None:
    root = tmp_path / "device"
    r = run_cli("deploy", "push", str(bundle_a), *opts(sshd, known, root, "--json", "--progress", "none"))
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout)
    assert a["release"] == a["bundle"] and a["previous"] is None and a["resumed_from"] == 0
    assert os.readlink(root / "current") == f"releases/{a['release']}"
    assert sha256_file(str(root / "current" / "models" / "model.fp32.onnx")) == \
        json.loads((root / "current" / "manifest.json").read_text())["files"]["models/model.fp32.onnx"]["sha256"]
    assert not list((root / "incoming").iterdir())  # the upload is gone once activated

    r = run_cli("deploy", "bench", *opts(sshd, known, root, "--iterations", "5", "--warmup", "1", "--json"))
    assert r.returncode == 0, r.stderr
    bench = json.loads(r.stdout)
    assert bench["bundle"] == a["release"] and bench["executable"] == sys.executable
    rows = {row["precision"]: row for row in bench["results"]}
    assert set(rows) == {"fp32", "int8"} and rows["fp32"]["engine"]["backend"] == "onnxruntime"
    assert rows["fp32"]["accuracy"]["agreement"] == 1.0 and rows["fp32"]["change_vs_host"] == pytest.approx(0, abs=1e-9)
    assert {"p50_ms", "p95_ms", "p99_ms", "fps"} <= set(rows["int8"]["latency"])
    r = run_cli("deploy", "bench", *opts(sshd, known, root, "--iterations", "3", "-p", "fp32"), env={"COLUMNS": "200"})
    assert r.returncode == 0 and "p99 ms" in r.stdout and "agreement" in r.stdout

    r = run_cli("deploy", "push", str(bundle_b), *opts(sshd, known, root, "--json"))
    b = json.loads(r.stdout)
    assert r.returncode == 0 and b["previous"] == a["release"] and b["release"] != a["release"]
    r = run_cli("deploy", "rollback", *opts(sshd, known, root, "--json"))
    assert r.returncode == 0 and json.loads(r.stdout)["release"] == a["release"]
    assert os.readlink(root / "current") == f"releases/{a['release']}"
    r = run_cli("deploy", "status", *opts(sshd, known, root, "--json"))
    status = json.loads(r.stdout)
    assert status["current"] == a["release"] and {x["release"] for x in status["releases"]} == {a["release"], b["release"]}
    assert [h["action"] for h in status["history"]] == ["push", "push", "rollback"]
    r = run_cli("deploy", "rollback", *opts(sshd, known, root, "--to", "bundle-nope"))
    assert r.returncode == 1 and "no release 'bundle-nope'" in r.stderr


class KillAt(Reporter):
    """Cuts the SSH connection (SIGKILL of sshd's session processes) once ``fraction`` is uploaded."""

    def __init__(self, server, fraction: float) -> None:
        self.server, self.fraction, self.killed = server, fraction, 0

    def _on_task(self, task, final: bool, force: bool = False) -> None:
        if task.name == "upload" and not self.killed and task.total and task.done >= self.fraction * task.total:
            self.killed = kill_sessions(self.server)


def test_killed_upload_keeps_the_old_release_and_resumes(sshd, known: Path, bundle_a: Path, bundle_b: Path,
                                                         tmp_path: Path) -> None:
    root = tmp_path / "device"
    dev = remote.Remote(Target.parse(sshd.target), Auth(sshd.user_key, known), str(root), sys.executable)
    first = remote.run(remote.push_async(dev, bundle_b))
    killer = KillAt(sshd, 0.4)
    with pytest.raises(RemoteError, match="connection lost after .* the previous release is still serving"):
        remote.run(remote.push_async(dev, bundle_a, reporter=killer, chunk=8 * 1024))
    assert killer.killed > 0
    assert os.readlink(root / "current") == f"releases/{first['release']}"  # still serving
    parts = list((root / "incoming").glob("*.tar.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size < bundle_a.stat().st_size
    have = parts[0].stat().st_size
    second = remote.run(remote.push_async(dev, bundle_a, chunk=8 * 1024))
    assert second["resumed_from"] == have > 0 and second["previous"] == first["release"]
    assert os.readlink(root / "current") == f"releases/{second['release']}"
    assert not list((root / "incoming").iterdir())


def test_bundle_with_a_dotdot_member_is_refused(sshd, known: Path, tmp_path: Path, run_cli) -> None:
    import io
    import tarfile

    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    r = run_cli("deploy", "push", str(evil), *opts(sshd, known, tmp_path / "device"))
    assert r.returncode == 2 and "refused" in r.stderr and "'..'" in r.stderr
    assert not (tmp_path / "device").exists() and not (tmp_path / "escape.txt").exists()
