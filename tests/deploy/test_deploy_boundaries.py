"""Trust boundaries of ``sim2real deploy`` (issue 22): hostile and broken bundles are refused in one
line on the host (``inspect_archive``, before upload) AND on the device (the real ``s2r_edge``
uploaded and run through a REAL OpenSSH server on 127.0.0.1, host checks bypassed), the previous
release keeps serving, nothing is written outside the release; release ids are names, never paths
(activate, rollback, status); the deploy commands print one line, not asyncssh's import warnings."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
import tarfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hostile import entry, member, regular, repack
from sim2real.deploy import remote
from sim2real.deploy.bundle import inspect_archive
from sim2real.deploy.edge.bundle import sha256_file
from sim2real.deploy.ssh import Auth, Target
from sim2real.errors import Sim2RealError
from sim2real.progress import NullReporter

Build = Callable[[Path, Path], Path]  # (good bundle, out) -> hostile archive


def _edit(fn: Callable[[dict[str, Any]], Any]) -> Build:
    return lambda good, out: repack(good, out, fn)


def _extra(*members: Any, first: bool = False) -> Build:
    return lambda good, out: repack(good, out, extra=members, first=first)


def _cut(good: Path, out: Path) -> Path:
    data = good.read_bytes()
    out.write_bytes(data[: len(data) // 2 + 100])  # inside a member's data
    return out


def _not_tar(good: Path, out: Path) -> Path:
    out.write_bytes(b"PK\x03\x04 this is a zip, or anything else" * 40)
    return out


def _size_bomb(good: Path, out: Path) -> Path:
    """One header claiming 40 GiB (gzip or a sparse file would make it real), then nothing."""
    info = member("models/huge.onnx", size=40 << 30)
    out.write_bytes(info.tobuf(tarfile.PAX_FORMAT))
    return out


def _chain(good: Path, out: Path) -> Path:
    """``engines -> y/y/y/../../..`` (lexically ``.``) then ``y -> .``: once both exist, engines/
    is three folders above the release, where ``build-engine`` would then write."""
    return repack(good, out, extra=[(member("engines", tarfile.SYMTYPE, "y/y/y/../../.."), None, False),
                                    (member("y", tarfile.SYMTYPE, "."), None, False)], first=True)


def _hardlink(good: Path, out: Path) -> Path:
    labels = json.loads(tarfile.open(good).extractfile("manifest.json").read())["files"]["labels.json"]  # type: ignore[union-attr]
    return repack(good, out, lambda m: m["files"].update({"copy.json": labels}),
                  extra=[(member("copy.json", tarfile.LNKTYPE, "labels.json"), None, False)])


def _drop(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda m: m["files"]["labels.json"].pop(key)


HOSTILE: dict[str, tuple[Build, str]] = {
    "id-traversal": (_edit(lambda m: m.update(id="../../escaped")), "release id"),
    "id-absolute": (lambda good, out: repack(good, out, lambda m: m.update(id=str(out.parent / "escaped"))),
                    "release id"),
    "id-not-a-string": (_edit(lambda m: m.update(id=["x"])), "release id"),
    "symlink-chain": (_chain, "symlink"),
    "hard-link-inside": (_hardlink, "hard link"),
    "ships-engines": (_extra(regular("engines/model.fp16.trt8.6.2.engine", b"not an engine", listed=False)), "engines"),
    "entry-without-size": (_edit(_drop("size")), "files.labels.json.size: expected an integer"),
    "entry-without-sha256": (_edit(_drop("sha256")), "files.labels.json.sha256: expected a string"),
    "size-is-a-string": (_edit(lambda m: m["files"]["labels.json"].update(size="12")), "expected an integer"),
    "files-is-a-list": (_edit(lambda m: m.update(files=[])), "files: expected an object"),
    "models-missing": (_edit(lambda m: m.pop("models")), "models: expected an object"),
    "truncated": (_cut, "not a readable bundle archive"),
    "not-a-tar": (_not_tar, "not a readable bundle archive"),
    "size-bomb": (_size_bomb, "unpacks to more than"),
}


@pytest.fixture(scope="module")
def hostile(bundle_b: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: build(bundle_b, folder / f"{name}.tar") for name, (build, _) in HOSTILE.items()}


def one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# ---------------------------------------------------------------- host


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_host_refuses_before_upload(hostile: dict[str, Path], case: str) -> None:
    with pytest.raises(Sim2RealError) as info:
        inspect_archive(hostile[case])
    message = one_line(str(info.value))
    assert message.startswith(str(hostile[case])) and HOSTILE[case][1] in message, message


def test_push_of_a_hostile_id_is_one_line_before_connecting(hostile: dict[str, Path], run_cli, tmp_path: Path) -> None:
    r = run_cli("deploy", "push", str(hostile["id-traversal"]), "--target", "nobody@127.0.0.1:1",
                "--known-hosts", str(tmp_path / "kh"))
    assert r.returncode == 2 and "id '../../escaped': expected a release id" in one_line(r.stderr)


def test_host_hashes_members_by_streaming(bundle_b: Path, tmp_path: Path) -> None:
    big = 48 << 20
    with open("/dev/zero", "rb") as zeros:
        data = zeros.read(big)
    archive = repack(bundle_b, tmp_path / "big.tar", extra=[regular("models/big.bin", data)])
    del data
    tracemalloc.start()
    try:
        inspect_archive(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"inspect_archive held {peak >> 20} MiB for a {big >> 20} MiB member"


def test_member_count_and_size_are_bounded(bundle_b: Path, tmp_path: Path) -> None:
    from sim2real.deploy.edge import archive as edge_archive

    many = repack(bundle_b, tmp_path / "many.tar", extra=[regular(f"pad/{i}.txt", b"") for i in range(40)])
    with tarfile.open(many) as tar:
        assert len(edge_archive.scan(tar)) > 40
    with tarfile.open(many) as tar, pytest.raises(edge_archive.UnsafeArchive, match="more than 30 members"):
        edge_archive.scan(tar, max_members=30)
    with tarfile.open(many) as tar, pytest.raises(edge_archive.UnsafeArchive, match="unpacks to more than 1000 bytes"):
        edge_archive.scan(tar, max_bytes=1000)
    with pytest.raises(edge_archive.UnsafeArchive, match="more than 30 members"):
        edge_archive.extract(str(many), str(tmp_path / "dest"), max_members=30)
    assert not (tmp_path / "dest").exists()  # nothing half-unpacked is left


@pytest.mark.parametrize("name, why", [
    ("models/../../x", "'..'"), ("/etc/x", "absolute"), (".hidden", "none starting with '.'"),
    ("a\\..\\b", "'..'"), ("C:/x", "absolute"), ("a/" * 17 + "x", "at most 16 parts"), ("nul\x00x", "letters, digits"),
])
def test_member_names(name: str, why: str) -> None:
    from sim2real.deploy.edge.schema import BundleError, check_name

    with pytest.raises(BundleError, match=why):
        check_name(name)
    assert check_name("runner/s2r_edge/__init__.py") == "runner/s2r_edge/__init__.py"


def test_manifest_carries_its_own_checksum(bundle_b: Path, tmp_path: Path) -> None:
    """A changed value in manifest.json (here: a host score) is caught on both ends."""
    from sim2real.deploy.edge.archive import extract
    from sim2real.deploy.edge.bundle import BundleError, verify

    assert len(inspect_archive(bundle_b)["manifest_sha256"]) == 64
    changed = repack(bundle_b, tmp_path / "changed.tar", lambda m: m["host"]["fp32"].update(miou=0.99), seal_it=False)
    with pytest.raises(Sim2RealError, match="does not match its own manifest_sha256"):
        inspect_archive(changed)
    root = tmp_path / "unpacked"
    extract(str(bundle_b), str(root))
    path = root / "manifest.json"
    path.write_text(path.read_text().replace('"miou": 0.', '"miou": 1.', 1))
    with pytest.raises(BundleError, match="does not match its own manifest_sha256"):
        verify(str(root))


# ---------------------------------------------------------------- device, through a real sshd


def _remote(sshd: Any, known: Path, root: Path) -> remote.Remote:
    return remote.Remote(Target.parse(sshd.target), Auth(sshd.user_key, known), str(root), sys.executable)


def device_tool(sshd: Any, known: Path, root: Path, *args: str, upload: Path | None = None) -> tuple[int, str, str]:
    """Run the device's own ``s2r_edge`` (uploaded by ``open_device``) with ``args``; with
    ``upload``, upload that archive first and activate it: no host check in between."""

    async def go() -> tuple[int, str, str]:
        async with remote.open_device(_remote(sshd, known, root)) as device:
            argv = list(args)
            if upload is not None:
                sha = sha256_file(str(upload))
                part, _ = await remote.upload(device, upload, sha, NullReporter())
                argv = ["activate", "--root", device.root, "--archive", part, "--sha256", sha]
            cmd = (f"PYTHONPATH={shlex.quote(device.tools)} PYTHONDONTWRITEBYTECODE=1 {shlex.quote(sys.executable)} "
                   "-m s2r_edge " + " ".join(shlex.quote(a) for a in argv))
            proc = await device.shell(cmd)
            return int(proc.exit_status), str(proc.stdout), str(proc.stderr)

    return remote.run(go())


@pytest.fixture(scope="module")
def serving(sshd: Any, bundle_b: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A device root with bundle_b serving (copied per test), and a known_hosts trusting sshd."""
    folder = tmp_path_factory.mktemp("serving")
    known = folder / "known_hosts"
    pub = Path(f"{sshd.host_key}.pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{sshd.port} {pub[0]} {pub[1]}\n")
    first = remote.run(remote.push_async(_remote(sshd, known, folder / "device"), bundle_b))
    return folder / "device", known, first["release"]


@pytest.fixture
def device(serving: tuple[Path, Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    template, known, release = serving
    root = tmp_path / "device"
    shutil.copytree(template, root, symlinks=True)
    return root, known, release


def assert_still_serving(root: Path, release: str) -> None:
    assert os.readlink(root / "current") == f"releases/{release}"
    assert sorted(os.listdir(root / "releases")) == [release]  # no half-made or escaped release
    assert not list((root / "incoming").iterdir())  # a refused upload cannot become valid: removed
    assert sorted(os.listdir(root.parent)) == ["device"]  # nothing beside the deploy root


@pytest.mark.ssh
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_device_refuses_and_keeps_serving(sshd, device, hostile: dict[str, Path], case: str) -> None:
    root, known, release = device
    code, out, err = device_tool(sshd, known, root, upload=hostile[case])
    assert code == 2 and out == "", (code, out, err)
    line = one_line(err)
    assert line.startswith("error: ") and HOSTILE[case][1] in line, line
    assert_still_serving(root, release)
    assert not (hostile[case].parent / "escaped").exists()  # where the absolute id pointed


@pytest.mark.ssh
def test_rollback_to_a_path_is_refused_on_both_ends(sshd, device, run_cli) -> None:
    root, known, release = device
    shutil.copytree(root / "releases" / release, root.parent / "elsewhere")  # a valid bundle outside releases/
    code, out, err = device_tool(sshd, known, root, "rollback", "--root", str(root), "--to", "../../elsewhere")
    assert code == 2 and "--to '../../elsewhere': expected a release id" in one_line(err)
    assert os.readlink(root / "current") == f"releases/{release}"
    r = run_cli("deploy", "rollback", "--target", sshd.target, "--identity", str(sshd.user_key), "--known-hosts",
                str(known), "--root", str(root), "--python", sys.executable, "--to", "../../elsewhere")
    assert r.returncode == 2 and "expected a release id" in one_line(r.stderr)
    assert os.readlink(root / "current") == f"releases/{release}"


@pytest.mark.ssh
def test_status_does_not_follow_a_foreign_current_link(sshd, device, run_cli) -> None:
    root, known, release = device
    shutil.copytree(root / "releases" / release, root.parent / "elsewhere")
    (root / "current").unlink()
    (root / "current").symlink_to("../elsewhere")
    (root / "releases" / "..." ).mkdir()  # not a release id: not listed either
    r = run_cli("deploy", "status", "--target", sshd.target, "--identity", str(sshd.user_key), "--known-hosts",
                str(known), "--root", str(root), "--python", sys.executable, "--json")
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["current"] is None and "is not a release under releases/" in status["current_refused"]
    assert [x["release"] for x in status["releases"]] == [release]
    code, out, err = device_tool(sshd, known, root, "rollback", "--root", str(root))  # repairs it
    assert code == 0 and json.loads(out)["release"] == release and os.readlink(root / "current") == f"releases/{release}"


@pytest.mark.ssh
def test_deploy_commands_print_one_line(sshd, run_cli, tmp_path: Path) -> None:
    """No CryptographyDeprecationWarning lines from importing asyncssh before the answer."""
    r = run_cli("deploy", "status", "--target", sshd.target, "--identity", str(sshd.user_key), "--known-hosts",
                str(tmp_path / "kh"), "--root", str(tmp_path / "d"))
    assert r.returncode == 2 and "unknown host key" in one_line(r.stderr)
    r = run_cli("deploy", "status", "--target", "nobody@127.0.0.1:1", "--known-hosts", str(tmp_path / "kh"))
    assert r.returncode == 1 and "cannot connect" in one_line(r.stderr)


@pytest.mark.ssh
def test_cut_connection_adds_no_asyncio_lines(sshd, serving, bundle_b: Path, tmp_path: Path, caplog) -> None:
    """A connection cut while 4 MiB blocks are in flight: asyncssh writes on for a moment and asyncio
    logs "socket.send() raised exception." (in about one run out of four here); the push says it in
    one line, and that asyncio line is dropped (only it: the filter test below)."""
    from test_deploy_ssh import KillAt

    template, known, _ = serving
    root = tmp_path / "device"
    shutil.copytree(template, root, symlinks=True)
    with open("/dev/zero", "rb") as zeros:
        big = repack(bundle_b, tmp_path / "big.tar", extra=[regular("models/big.bin", zeros.read(24 << 20))])
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        with pytest.raises(Sim2RealError, match="connection lost after"):
            remote.run(remote.push_async(_remote(sshd, known, root), big, reporter=KillAt(sshd, 0.2), chunk=4 << 20))
        (root / "incoming" / f"{sha256_file(str(big))}.tar.part").unlink()
    assert not [r for r in caplog.records if r.name == "asyncio"], [r.getMessage() for r in caplog.records]


def test_only_the_lost_connection_line_of_asyncio_is_dropped(caplog) -> None:
    async def noisy() -> None:
        log = logging.getLogger("asyncio")
        for _ in range(3):
            log.warning("socket.send() raised exception.")
        log.warning("Task was destroyed but it is pending!")

    caplog.set_level(logging.WARNING)
    remote.run(noisy())
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == ["Task was destroyed but it is pending!"]
    logging.getLogger("asyncio").warning("socket.send() raised exception.")  # outside a deploy operation: kept
    assert [r.getMessage() for r in caplog.records][-1] == "socket.send() raised exception."


def test_manifest_entry_helper_matches_the_writer(bundle_b: Path) -> None:
    """hostile.py lists files as the bundle writer does (else the cases above test the wrong thing)."""
    manifest = inspect_archive(bundle_b)
    with tarfile.open(bundle_b) as tar:
        labels = tar.extractfile("labels.json").read()  # type: ignore[union-attr]
    assert manifest["files"]["labels.json"] == entry(labels)
    same = repack(bundle_b, Path(str(bundle_b) + ".same.tar"))
    assert inspect_archive(same) == manifest
