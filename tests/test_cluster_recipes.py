"""The cluster recipes of docs/scaling.md: the Slurm array script run for real (two array tasks as
separate processes, then the merge), the KubeRay RayJob manifest and the documented torchrun, Ray
and Isaac Sim command lines checked against the parsers of the real tools."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
import yaml
from testlib import REPO

from sim2real.dataset.store import dataset_files
from sim2real.dataset.verify import verify

DOC = REPO / "exts" / "sim2real" / "docs" / "scaling.md"
CLUSTER = REPO / "tools" / "cluster"


def doc_commands(prefix: str) -> list[list[str]]:
    """The documented shell commands starting with ``prefix`` (continuation lines joined)."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [shlex.split(line.split("#")[0]) for line in (x.strip() for x in lines) if line.startswith(prefix)]


def sim2real_params(args: list[str]) -> dict:
    """``sim2real SUB ARGS`` parsed by the real command-line interface (unknown options raise)."""
    from sim2real.cli import app

    group = typer.main.get_command(app)
    ctx = group.make_context("sim2real", [args[0], "--help"], resilient_parsing=True)
    command = group.get_command(ctx, args[0])
    assert command is not None, args[0]
    return command.make_context(args[0], args[1:]).params


def _expand(args: list[str], **env: str) -> list[str]:
    return [re.sub(r"\$(\w+)", lambda m: env[m.group(1)], a) for a in args]


# --------------------------------------------------------------------------- Slurm job array
@pytest.mark.slow  # two array tasks and the reference run at once (three generator processes), then the merge
def test_the_slurm_array_script_then_merge_equals_one_run(tmp_path: Path) -> None:
    out, single = tmp_path / "array", tmp_path / "single"
    extra = "--resolution 32x24 --seed 5 --frames-per-shard 2"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(REPO / "exts" / "sim2real"), "OUT": str(out), "FRAMES": "6",
           "GENERATE_ARGS": extra, "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_CPUS_PER_TASK": "1"}
    procs = [subprocess.Popen(["bash", str(CLUSTER / "generate-array.sbatch")], env={**env, "SLURM_ARRAY_TASK_ID": str(k)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(2)]
    # both array tasks run at the same time, as Slurm would start them; the one-process run alongside
    procs.append(subprocess.Popen([sys.executable, "-m", "sim2real.cli", "generate", "--profile", "tabletop",
                                   "--frames", "6", "--out", str(single), *extra.split(), "--progress", "none"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    merge = doc_commands("sbatch --dependency")[0][-1]  # the --wrap command of the documented merge job
    assert merge == "sim2real dataset merge /shared/datasets/tabletop"
    proc = subprocess.run([*shlex.split(merge)[:-1], str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert verify(out).ok and verify(out).complete
    files = sorted(p.relative_to(out) for p in dataset_files(out))
    assert files == sorted(p.relative_to(single) for p in dataset_files(single))
    assert all((out / rel).read_bytes() == (single / rel).read_bytes() for rel in files)


def test_the_slurm_script_refuses_to_run_outside_an_array(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    proc = subprocess.run(["bash", str(CLUSTER / "generate-array.sbatch")], capture_output=True, text=True,
                          env={**env, "OUT": str(tmp_path / "x"), "FRAMES": "4"})
    assert proc.returncode != 0 and "submit with sbatch --array" in proc.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.parts").exists()


# --------------------------------------------------------------------------- KubeRay RayJob
def test_the_rayjob_manifest_runs_the_generator_on_its_own_cluster() -> None:
    job = yaml.safe_load((CLUSTER / "rayjob-generate.yaml").read_text())
    assert job["apiVersion"] == "ray.io/v1" and job["kind"] == "RayJob"
    spec = job["spec"]
    args = shlex.split(spec["entrypoint"])
    assert args[:2] == ["sim2real", "generate"]
    params = sim2real_params(args[1:])
    assert (params["executor"], params["ray_address"]) == ("ray", "auto")
    cluster = spec["rayClusterSpec"]
    import ray

    assert cluster["rayVersion"] == ray.__version__  # the Ray that sim2real[ray] installs here
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:  # every pod mounts the volume --out lives on
        pod = group["template"]["spec"]
        mounts = {m["mountPath"]: m["name"] for c in pod["containers"] for m in c["volumeMounts"]}
        assert mounts.get("/data") in {v["name"] for v in pod["volumes"]}
    assert str(params["out"]).startswith("/data/")
    renderers = sum(int(g["replicas"]) * int(g["rayStartParams"]["num-cpus"]) for g in cluster["workerGroupSpecs"])
    assert params["workers"] == renderers and cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"


# --------------------------------------------------------------------------- documented command lines
def test_the_documented_ray_and_torchrun_commands_parse() -> None:
    from ray.scripts.scripts import start
    from torch.distributed.run import get_args_parser

    starts = doc_commands("ray start")
    assert len(starts) == 2
    for cmd in starts:
        start.make_context("start", cmd[2:])  # ray's own parser: unknown options raise
    [gen] = [c for c in doc_commands("sim2real generate") if "--executor" in c]
    assert sim2real_params(gen[1:])["executor"] == "ray"

    [cmd] = doc_commands("torchrun")
    a = get_args_parser().parse_args(_expand(cmd[1:], NODE_RANK="1"))
    assert (a.nnodes, a.nproc_per_node, a.node_rank, a.rdzv_backend, a.module) == ("2", "4", 1, "c10d", True)
    assert a.training_script == "sim2real.cli" and a.training_script_args[0] == "train"
    params = sim2real_params(a.training_script_args)
    assert params["batch_size"] % (2 * 4) == 0  # an equal share per rank (distributed.Dist.check_batch)


def test_the_documented_isaac_processes_take_one_gpu_each() -> None:
    from sim2real.generate.isaac_script import build_parser, launch_config, request_from_args

    lines = doc_commands("CUDA_VISIBLE_DEVICES")
    assert len(lines) == 1
    shards = set()
    for k in range(4):
        cmd = _expand(lines[0], k=str(k))
        assert cmd[0] == f"CUDA_VISIBLE_DEVICES={k}" and cmd[2] == "tools/isaac/generate.py"
        assert (REPO / cmd[2]).is_file()
        args = build_parser().parse_args([a for a in cmd[3:] if a != "&"])
        config = launch_config(args)
        assert (config["active_gpu"], config["physics_gpu"], config["multi_gpu"], config["headless"]) == (0, 0, False, True)
        request = request_from_args(args)
        shards.add((request.num_shards, request.shard_index))
    assert shards == {(4, k) for k in range(4)}
    assert doc_commands("sim2real dataset merge")[0][:3] == ["sim2real", "dataset", "merge"]
