"""`sim2real generate --executor ray` on a real cluster from ``ray start`` (a head and worker nodes on
127.0.0.1): the dataset is byte-identical to a local run, a worker node SIGKILLed mid-job leaves
the job to the surviving node with no frame lost or duplicated, and a node that does not see the
output folder (a worker in a mount namespace of its own) is refused in one line before any frame."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_cluster import RayCluster
from testlib import REPO, descendants

from sim2real.dataset.store import dataset_files
from sim2real.dataset.verify import verify

pytestmark = pytest.mark.slow  # each node start takes ~10-30 s on 2 busy cores
FRAMES = 24
BASE = ["generate", "--profile", "tabletop", "--resolution", "64x48", "--seed", "3", "--frames", str(FRAMES)]


def _generate(out: Path, env: dict[str, str] | None = None, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", *BASE, "--out", str(out), "--progress", "json", *extra]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in dataset_files(root)}


def _committed(out: Path) -> int:
    return sum(1 for p in out.glob("shards/*/*.json") if p.name != "index.json")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cluster") / "local"
    proc = subprocess.run(_generate(out), capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    """A head node with one CPU; the tests add (and kill) worker nodes of one CPU each."""
    with RayCluster(tmp_path_factory.mktemp("ray")) as c:
        c.head()
        yield c
    pids = c.pids
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)  # SIGKILLed processes vanish once reaped
    assert not [p for p in pids if _alive(p)], "a Ray process outlived the cluster"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _on_cluster(cluster: RayCluster, out: Path) -> list[str]:
    return _generate(out, None, "--executor", "ray", "--workers", "2", "--ray-address", cluster.address)


def test_a_ray_start_cluster_makes_the_local_dataset(cluster: RayCluster, reference: Path, tmp_path: Path) -> None:
    worker = cluster.worker()
    out = tmp_path / "ray"
    proc = subprocess.run(_on_cluster(cluster, out), capture_output=True, text=True, timeout=600, cwd=REPO,
                          env=cluster.env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert tree_bytes(out) == tree_bytes(reference)
    assert not list(out.glob(".sim2real-probe-*"))  # the storage probe is removed
    assert descendants(worker.pid), "the worker node is still up for the next test"


def test_a_worker_node_killed_mid_job_leaves_the_job_to_the_others(cluster: RayCluster, reference: Path,
                                                                  tmp_path: Path) -> None:
    worker = cluster.nodes[-1] if len(cluster.nodes) > 1 and cluster.nodes[-1].poll() is None else cluster.worker()
    out = tmp_path / "killed"
    job = subprocess.Popen(_on_cluster(cluster, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           cwd=REPO, env=cluster.env)
    try:
        deadline = time.monotonic() + 300
        while _committed(out) < 3 and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        cluster.kill(worker)  # raylet, object store, its actor and every other process of that node
        _, err = job.communicate(timeout=600)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    lines = err.strip().splitlines()
    assert job.returncode == 0 or (job.returncode == 1 and len(lines) == 1), err[-3000:]
    again = subprocess.run(_on_cluster(cluster, out), capture_output=True, text=True, timeout=600, cwd=REPO,
                           env=cluster.env)
    assert again.returncode == 0, again.stderr[-3000:]
    report = verify(out)
    assert report.ok and report.complete, [p.message for p in report.problems]
    assert tree_bytes(out) == tree_bytes(reference)  # no frame lost, duplicated or different


def test_a_node_that_cannot_see_the_output_folder_is_refused_before_any_frame(cluster: RayCluster,
                                                                              tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    # the worker node's own view of the machine: an empty tmpfs over `shared`, as a node would see
    # an unmounted NFS path (user and mount namespaces: no privileges needed)
    hide = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
            f'mount -t tmpfs tmpfs "{shared}" && exec "$0" "$@"']
    if subprocess.run([*hide[:-1], "true"], capture_output=True).returncode:
        pytest.skip("unprivileged user and mount namespaces are not available here")
    cluster.worker(wrap=hide)
    out = shared / "ds"
    proc = subprocess.run(_on_cluster(cluster, out), capture_output=True, text=True, timeout=600, cwd=REPO,
                          env=cluster.env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-3000:]
    assert re.search(rf"--out {re.escape(str(out))}: not shared with the Ray node \S+ \(id [0-9a-f]{{12}}\): cannot "
                     r"read the probe file \.sim2real-probe-\w+ \(No such file or directory\).* no frame was rendered$",
                     lines[0]), lines[0]
    assert _committed(out) == 0 and not list(out.glob("shards/*/*.png"))
