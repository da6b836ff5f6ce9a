"""#26: ``gym.make("sim2real/Arm2Reach-v0")`` failed with NamespaceNotFound even after ``import
sim2real.control``. Each case runs in a fresh interpreter (registration is process state)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("gymnasium")

CASES = {
    "sim2real first": "import sys, sim2real.control\n"
                      "assert 'gymnasium' not in sys.modules and 'torch' not in sys.modules  # still cheap\n"
                      "import gymnasium as gym\n",
    "gymnasium first": "import gymnasium as gym\nimport sim2real.control\n",
    "gymnasium's module:id form": "import gymnasium as gym\nENV = 'sim2real.control:sim2real/Arm2Reach-v0'\n",
}


@pytest.mark.parametrize("case", CASES)
def test_the_arm_env_is_made_by_its_id_after_an_import(case: str) -> None:
    code = CASES[case] + (
        "env = gym.make(globals().get('ENV', 'sim2real/Arm2Reach-v0'))\n"
        "obs, _ = env.reset(seed=0)\n"
        "assert env.spec.id == 'sim2real/Arm2Reach-v0' and env.spec.max_episode_steps == 150\n"
        "assert obs.shape == env.observation_space.shape\n"
        "env.close()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
