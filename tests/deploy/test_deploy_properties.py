"""Property tests of the bundle boundaries (issue 22): hypothesis builds hostile tar archives from a
real bundle (random member types, names, link targets, order, sizes, duplicates, manifest edits
re-sealed as their author would, cut or flipped bytes) and runs them through the host check
(``inspect_archive``, what ``deploy push`` runs first) and the device check (``s2r_edge activate``,
in-process for many examples and through a real OpenSSH server for a few).

Whatever the archive: the host answers a manifest or one ``Sim2RealError`` line naming the archive;
the device exits 0, 1 or 2 with one ``error:`` line, writes nothing outside its deploy root, keeps
the previous release serving when it refuses, and when it accepts, every path of the new release
resolves inside that release (no later writer, e.g. ``build-engine`` into ``engines/``, can leave
it); an archive the host accepts, the device accepts too.

Archives are written with ``tarfile`` here, not with sim2real's helpers, so the same tests run
against other branches' code (``PYTHONPATH``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shlex
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sim2real.deploy.bundle import inspect_archive
from sim2real.deploy.edge import release as edge_release
from sim2real.deploy.edge.__main__ import main as edge_main
from sim2real.errors import Sim2RealError

OUT = "{OUT}"  # placeholder: a folder beside the deploy root, filled in when the archive is written
SELF_KEY = "manifest_sha256"
PARTS = ["a", "b", "engines", "models", "runner", "eval", "labels.json", "README.md", "manifest.json", "current",
         "releases", "..", ".", "", "~", "\u00e9", "x" * 100, "a\\..\\b", "C:", " ", "-", "_"]
KINDS = {"file": tarfile.REGTYPE, "old-file": tarfile.AREGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
         "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE,
         "cont": tarfile.CONTTYPE}
IDS = ["bundle-0123456789abcdef", "../../escaped", f"{OUT}/escaped", "", ".", "..", "releases", "current", "a/b",
       "x" * 300, "a\x00b", ["x"], 3, None, "-rf", "engines"]
FILES = "files"
SETTINGS = settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
# The known attacks below (symlink chain, absolute id, entry without size, cut archive) are always run
# as explicit examples: before issue 22's fixes each of them wrote outside the root or gave a traceback.

SAFE_PARTS = ["a", "b", "models", "runner", "eval", "x" * 100, "b.json"]
safe_paths = st.lists(st.sampled_from(SAFE_PARTS), min_size=1, max_size=3).map("/".join)  # names a bundle may hold
paths = st.one_of(
    safe_paths,
    st.lists(st.sampled_from(PARTS), min_size=1, max_size=5).map("/".join),
    st.sampled_from(["/", f"{OUT}", f"{OUT}/x", "/etc/x", "../" * 5 + "x", "engines/../../..", "y/y/y/../../.."]),
)
members = st.tuples(st.sampled_from(sorted(KINDS)), paths, paths, st.binary(max_size=48), st.booleans())
# an archive has to get past the first checks to test the later ones: often only plain, listed files and folders
plain = st.tuples(st.sampled_from(["file", "old-file", "dir"]), safe_paths, st.just(""), st.binary(max_size=48),
                  st.just(True))
extras = st.one_of(st.just([]), st.lists(plain, min_size=1, max_size=4), st.lists(members, min_size=1, max_size=6))
edits = st.one_of(
    st.tuples(st.just("id"), st.sampled_from(IDS)),
    st.tuples(st.just("pop"), st.sampled_from(["format", "version", FILES, "models", "id", "task", "classes"])),
    st.tuples(st.just("entry-pop"), st.sampled_from(["size", "sha256"])),
    st.tuples(st.just("entry-set"), st.tuples(st.sampled_from(["size", "sha256"]),
                                              st.sampled_from(["12", -1, None, 10**20, 1.5, "zz", 7]))),
    st.tuples(st.just("set"), st.tuples(st.sampled_from([FILES, "version", "models", "format"]),
                                        st.sampled_from([[], None, "x", 2, "1", {}, 1.5]))),
    st.tuples(st.just("list-missing"), paths),
)
damages = st.one_of(st.none(), st.none(), st.none(), st.tuples(st.just("cut"), st.floats(0, 1)),
                    st.tuples(st.just("flip"), st.floats(0, 1)), st.tuples(st.just("junk"), st.binary(max_size=600)))


@st.composite
def recipes(draw: st.DrawFn) -> dict[str, Any]:
    """How to make one hostile archive out of the real bundle (plain data: hypothesis shrinks it)."""
    return {"extra": draw(extras), "first": draw(st.lists(st.booleans(), max_size=6)),
            "edits": draw(st.one_of(st.just([]), st.lists(edits, min_size=1, max_size=3))), "seal": draw(st.sampled_from([True, True, True, False])),
            "damage": draw(damages), "drop": draw(st.one_of(st.just([]), st.lists(st.integers(0, 40), max_size=2)))}


def _fill(text: Any, out: Path) -> Any:
    return text.replace(OUT, str(out)) if isinstance(text, str) else text


def _entry(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _edit(manifest: dict[str, Any], edit: tuple[str, Any], out: Path) -> None:
    op, arg = edit
    files = manifest.get(FILES) if isinstance(manifest.get(FILES), dict) else {}
    listed = sorted(files)
    if op == "id":
        manifest["id"] = _fill(arg, out)
    elif op == "pop":
        manifest.pop(arg, None)
    elif op == "set":
        manifest[arg[0]] = arg[1]
    elif op == "list-missing":
        files[_fill(arg, out)] = _entry(b"not in the archive")
    elif listed and isinstance(files[listed[0]], dict):  # entry-pop / entry-set on the first listed file
        if op == "entry-pop":
            files[listed[0]].pop(arg, None)
        else:
            files[listed[0]][arg[0]] = arg[1]


def _seal(manifest: dict[str, Any]) -> None:
    """What a hostile author does: recompute the manifest's own checksum when it has one."""
    if SELF_KEY in manifest:
        body = {k: v for k, v in manifest.items() if k != SELF_KEY}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
        manifest[SELF_KEY] = hashlib.sha256(text.encode()).hexdigest()


def build(base: dict[str, bytes], recipe: dict[str, Any], out: Path, path: Path) -> Path:
    """Write the archive ``recipe`` describes to ``path``; ``out`` is where ``{OUT}`` points."""
    files = dict(base)
    manifest = json.loads(files.pop("manifest.json"))
    own = [(tarfile.REGTYPE, name, "", data) for name, data in sorted(files.items())]
    for k in sorted(set(recipe["drop"]), reverse=True):  # a listed file left out
        if k < len(own):
            own.pop(k)
    added = []
    for kind, name, link, data, listed in recipe["extra"]:
        name, link = _fill(name, out), _fill(link, out)
        if listed and KINDS[kind] in (tarfile.REGTYPE, tarfile.AREGTYPE) and isinstance(manifest.get(FILES), dict):
            manifest[FILES][name] = _entry(data)  # listed with its right checksum: only the checks under test refuse
        added.append((KINDS[kind], name, link, data))
    for edit in recipe["edits"]:
        _edit(manifest, edit, out)
    if recipe["seal"]:
        _seal(manifest)
    body = json.dumps(manifest).encode()
    order = own + [(tarfile.REGTYPE, "manifest.json", "", body)]
    for k, item in enumerate(added):
        order.insert(0 if k < len(recipe["first"]) and recipe["first"][k] else len(order), item)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, link, data in order:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = kind, link, 0o644
            regular = kind in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
            info.size = len(data) if regular else 0
            tar.addfile(info, io.BytesIO(data) if regular else None)
    _damage(path, recipe["damage"])
    return path


def _damage(path: Path, damage: tuple[str, Any] | None) -> None:
    if damage is None:
        return
    data = bytearray(path.read_bytes())
    kind, arg = damage
    if kind == "cut":
        data = data[: int(len(data) * arg)]
    elif kind == "flip" and data:
        data[min(int(len(data) * arg), len(data) - 1)] ^= 0xFF
    elif kind == "junk":
        data += arg
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- the two checks and their invariants


def host_verdict(archive: Path) -> str | None:
    """None if the host accepts the archive, else its one-line refusal (anything else escapes: a bug)."""
    try:
        inspect_archive(archive)
    except Sim2RealError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(str(archive)), message
        return message
    return None


def tree(top: Path, skip: Path | None = None) -> dict[str, tuple[Any, ...]]:
    """Every path under ``top`` (``skip`` left out) with its kind and content: what changed shows."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if skip is None or Path(dirpath, d) != skip]
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if p.is_symlink():
                out[str(p)] = ("link", os.readlink(p))
            elif p.is_file():
                out[str(p)] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[str(p)] = ("dir" if p.is_dir() else "other",)
    return out


def inside(base: Path, path: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(base)
    return real == top or real.startswith(top + os.sep)


def check_device_result(root: Path, sandbox: Path, before: dict[str, Any], previous: str, code: int,
                        out: str, err: str) -> str | None:
    """The device invariants (module docstring); None if it accepted, else its error line."""
    assert code in (0, 1, 2), (code, err)
    assert tree(sandbox, skip=root) == before, "the device wrote outside its deploy root"
    releases = root / "releases"
    if code != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        assert out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
        assert os.readlink(root / "current") == f"releases/{previous}"
        assert sorted(os.listdir(releases)) == [previous], "a refused bundle left a release folder"
        return lines[0]
    assert err == "", err
    current = os.path.realpath(root / "current")
    assert inside(releases, Path(current)) and current != os.path.realpath(releases), current
    for dirpath, dirnames, filenames in os.walk(current):
        for name in dirnames + filenames:
            assert inside(Path(current), Path(dirpath, name)), f"{Path(dirpath, name)} resolves outside the release"
    return None


class Members(dict):  # type: ignore[type-arg]
    """The files of the real bundle by name (shown by name only when hypothesis reports an example)."""

    def __repr__(self) -> str:
        return f"<the {len(self)} files of bundle_b>"


@pytest.fixture(scope="module")
def base(bundle_b: Path) -> dict[str, bytes]:
    with tarfile.open(bundle_b) as tar:
        return Members({m.name: tar.extractfile(m).read() for m in tar if m.isfile()})  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def template(bundle_b: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A device root with bundle_b serving (activated by the device code itself)."""
    root = tmp_path_factory.mktemp("template") / "device"
    (root / "incoming").mkdir(parents=True)
    upload = root / "incoming" / "b.tar.part"
    shutil.copy(bundle_b, upload)
    sha = hashlib.sha256(upload.read_bytes()).hexdigest()
    return root, edge_release.activate(str(root), str(upload), sha)["release"]


def sandbox_for(template: tuple[Path, str], scratch: Path) -> tuple[Path, Path, Path]:
    """(sandbox, device root, OUT): a fresh copy of the device root, deep enough that ``..`` chains of
    the strategies stay inside the sandbox, with a canary folder beside it."""
    sandbox = Path(tempfile.mkdtemp(dir=scratch))
    root = sandbox / "d1" / "d2" / "d3" / "device"
    shutil.copytree(template[0], root, symlinks=True)
    outside = sandbox / "outside"
    (outside / "ssh").mkdir(parents=True)
    (outside / "secret").write_text("keep me")
    return sandbox, root, outside


CHAIN = {"extra": [("sym", "engines", "y/y/y/../../..", b"", False), ("sym", "y", ".", b"", False)],
         "first": [True, True], "edits": [], "seal": True, "damage": None, "drop": []}
ESCAPING_ID = {"extra": [], "first": [], "edits": [("id", f"{OUT}/escaped")], "seal": True, "damage": None, "drop": []}
NO_SIZE = {"extra": [], "first": [], "edits": [("entry-pop", "size")], "seal": True, "damage": None, "drop": []}
CUT = {"extra": [], "first": [], "edits": [], "seal": True, "damage": ("cut", 0.5), "drop": []}


@settings(SETTINGS, max_examples=150)
@given(recipes())
@example(CHAIN)  # the known attacks always run: issue 22 items 1-3
@example(ESCAPING_ID)
@example(NO_SIZE)
@example(CUT)
def test_host_and_device_checks_hold_for_any_archive(base, template, tmp_path_factory, recipe) -> None:
    scratch = tmp_path_factory.getbasetemp() / "props"
    scratch.mkdir(exist_ok=True)
    sandbox, root, outside = sandbox_for(template, scratch)
    try:
        archive = build(base, recipe, outside, root / "incoming" / "upload.tar.part")
        before = tree(sandbox, skip=root)
        host = host_verdict(archive)
        assert tree(sandbox, skip=root) == before, "the host check wrote something"
        sha = hashlib.sha256(archive.read_bytes()).hexdigest()
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = edge_main(["activate", "--root", str(root), "--archive", str(archive), "--sha256", sha])
        device = check_device_result(root, sandbox, before, template[1], code, stdout.getvalue(), stderr.getvalue())
        event(f"host {'accepts' if host is None else 'refuses'}, device {'accepts' if device is None else 'refuses'}")
        assert host is not None or device is None, f"the host accepted what the device refused: {device}"
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


# ---------------------------------------------------------------- the device through a real sshd


def activate_over_ssh(sshd: Any, known: Path, root: Path, archive: Path) -> tuple[int, str, str]:
    """Upload ``archive`` as ``deploy push`` does and run the device's own ``s2r_edge activate`` on
    it, with no host check in between."""
    from sim2real.deploy import remote
    from sim2real.deploy.ssh import Auth, Target
    from sim2real.progress import NullReporter

    async def go() -> tuple[int, str, str]:
        target = remote.Remote(Target.parse(sshd.target), Auth(sshd.user_key, known), str(root), sys.executable)
        async with remote.open_device(target) as device:
            sha = hashlib.sha256(archive.read_bytes()).hexdigest()
            part, _ = await remote.upload(device, archive, sha, NullReporter())
            argv = ["activate", "--root", device.root, "--archive", part, "--sha256", sha]
            proc = await device.shell(f"PYTHONPATH={shlex.quote(str(device.tools))} PYTHONDONTWRITEBYTECODE=1 "
                                      f"{shlex.quote(sys.executable)} -m s2r_edge " + " ".join(map(shlex.quote, argv)))
            return int(proc.exit_status), str(proc.stdout), str(proc.stderr)

    return remote.run(go())


@pytest.mark.ssh
@settings(SETTINGS, max_examples=8)
@given(recipes())
@example(CHAIN)
@example(ESCAPING_ID)
def test_the_device_over_ssh_holds_for_any_archive(sshd, base, template, tmp_path_factory, recipe) -> None:
    scratch = tmp_path_factory.getbasetemp() / "props-ssh"
    scratch.mkdir(exist_ok=True)
    known = scratch / "known_hosts"
    algo, blob = Path(f"{sshd.host_key}.pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{sshd.port} {algo} {blob}\n")
    sandbox, root, outside = sandbox_for(template, scratch)
    try:
        archive = build(base, recipe, outside, scratch / f"{sandbox.name}.tar")
        before = tree(sandbox, skip=root)
        code, out, err = activate_over_ssh(sshd, known, root, archive)
        check_device_result(root, sandbox, before, template[1], code, out, err)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
