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

pytestmark = pytest.mark.slow  # one ray start cluster (head + worker, ~10-20 s each) and five generator jobs
FRAMES = 24  # 3 frames per work item on 2 actors: 8 items, so a node killed after 3 frames still holds work
BASE = ["generate", "--profile", "tabletop", "--resolution", "32x24", "--seed", "3", "--frames", str(FRAMES)]


def _generate(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", *BASE, "--out", str(out), "--progress", "json", *extra]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in dataset_files(root)}


def _committed(out: Path) -> int:
    return sum(1 for p in out.glob("shards/*/*.json") if p.name != "index.json")


def _hiding(shared: Path) -> list[str] | None:
    """A command prefix giving a process its own view of the machine, with an empty tmpfs over
    ``shared`` (as a node sees an unmounted NFS path; user + mount namespaces need no privileges),
    or None where such namespaces are not available."""
    hide = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
            f'mount -t tmpfs tmpfs "{shared}" && exec "$0" "$@"']
    return hide if subprocess.run([*hide[:-1], "true"], capture_output=True).returncode == 0 else None


class Cluster:
    """The module's one ``ray start`` cluster: a head and one worker node of one CPU each. The worker
    runs in a mount namespace that hides ``shared`` only: every other path (the other tests' output
    folders) it sees as the head does, so the same node serves the identical-dataset, storage-probe
    and node-death tests (in that order; ``worker()`` restarts it once killed)."""

    def __init__(self, ray: RayCluster, shared: Path, local: subprocess.Popen[str]) -> None:
        self.ray, self.shared, self.hide, self.local = ray, shared, _hiding(shared), local
        self.node: subprocess.Popen[str] | None = None

    def worker(self) -> subprocess.Popen[str]:
        if self.node is None or self.node.poll() is not None:
            self.node = self.ray.worker(wrap=self.hide)
        return self.node

    def run(self, out: Path, workers: int = 2) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.job(out, workers), capture_output=True, text=True, timeout=600, cwd=REPO,
                              env=self.ray.env)

    def job(self, out: Path, workers: int = 2) -> list[str]:
        return _generate(out, "--executor", "ray", "--workers", str(workers), "--ray-address", self.ray.address)


@pytest.fixture(scope="module")
def reference(cluster: Cluster) -> Path:
    _, err = cluster.local.communicate(timeout=300)
    assert cluster.local.returncode == 0, err[-3000:]
    return cluster.shared.parent / "local"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    (root / "shared").mkdir()
    # the local reference run renders while the nodes start (it does not use Ray)
    ref = subprocess.Popen(_generate(root / "local"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           cwd=REPO)
    try:
        with RayCluster(root / "ray") as ray:
            ray.head()
            c = Cluster(ray, root / "shared", ref)
            c.worker()
            yield c
    finally:
        if ref.poll() is None:
            ref.kill()
        ref.wait()
    pids = ray.pids
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)  # SIGKILLed processes vanish once reaped
    assert not [p for p in pids if _alive(p)], "a Ray process outlived the cluster"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_ray_start_cluster_makes_the_local_dataset(cluster: Cluster, reference: Path, tmp_path: Path) -> None:
    worker = cluster.worker()
    out = tmp_path / "ray"
    proc = cluster.run(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert tree_bytes(out) == tree_bytes(reference)
    assert not list(out.glob(".sim2real-probe-*"))  # the storage probe is removed
    assert descendants(worker.pid), "the worker node is still up for the next test"


def test_a_node_that_cannot_see_the_output_folder_is_refused_before_any_frame(cluster: Cluster) -> None:
    if cluster.hide is None:
        pytest.skip("unprivileged user and mount namespaces are not available here")
    cluster.worker()
    out = cluster.shared / "ds"
    proc = cluster.run(out)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-3000:]
    assert re.search(rf"--out {re.escape(str(out))}: not shared with the Ray node \S+ \(id [0-9a-f]{{12}}\): cannot "
                     r"read the probe file \.sim2real-probe-\w+ \(No such file or directory\).* no frame was rendered$",
                     lines[0]), lines[0]
    assert _committed(out) == 0 and not list(out.glob("shards/*/*.png"))


def test_a_worker_node_killed_mid_job_leaves_the_job_to_the_others(cluster: Cluster, reference: Path,
                                                                  tmp_path: Path) -> None:
    worker = cluster.worker()
    out = tmp_path / "killed"
    job = subprocess.Popen(cluster.job(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           cwd=REPO, env=cluster.ray.env)
    try:
        deadline = time.monotonic() + 300
        while _committed(out) < 3 and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        done_before = _committed(out)
        cluster.ray.kill(worker)  # raylet, object store, its actor and every other process of that node
        assert job.poll() is None and done_before < FRAMES, "the job ended before the node was killed"
        _, err = job.communicate(timeout=600)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    lines = err.strip().splitlines()
    assert job.returncode == 0 or (job.returncode == 1 and len(lines) == 1), err[-3000:]
    again = cluster.run(out, workers=1)  # the head alone is left
    assert again.returncode == 0, again.stderr[-3000:]
    report = verify(out)
    assert report.ok and report.complete, [p.message for p in report.problems]
    assert tree_bytes(out) == tree_bytes(reference)  # no frame lost, duplicated or different
