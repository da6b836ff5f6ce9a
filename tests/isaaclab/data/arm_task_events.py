# An event config written the way Isaac Lab's manager-based task configs write theirs (our own text,
# for the importer's tests): a task-local mdp package, aliases, a base class, a term removed in a
# subclass, math.pi, a random interval, and parameters left at their defaults.
import math

from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.utils import configclass

import my_tasks.arm.mdp as mdp


@configclass
class BaseEventCfg:
    """Randomization shared by the arm tasks."""

    # startup
    link_material = EventTerm(
        func=mdp.randomize_rigid_body_material,
        mode="startup",
        params={
            "asset_cfg": SceneEntityCfg("robot", body_names=".*_arm"),
            "static_friction_range": (0.7, 1.1),
            "dynamic_friction_range": (0.7, 1.1),
            "restitution_range": (0.0, 0.2),
            "num_buckets": 64,
        },
    )

    add_link_mass = EventTerm(
        func=mdp.randomize_rigid_body_mass,
        mode="startup",
        params={
            "asset_cfg": SceneEntityCfg("robot", body_names=["upper_arm", "forearm"]),
            "mass_distribution_params": (-0.05, 0.1),
            "operation": "add",
        },
    )

    gains = EventTerm(
        func=mdp.randomize_actuator_gains,
        mode="reset",
        params={
            "asset_cfg": SceneEntityCfg("robot", joint_names=[".*"]),
            "stiffness_distribution_params": (0.75, 1.5),
            "damping_distribution_params": (0.3, 3.0),
            "operation": "scale",
            "distribution": "log_uniform",
        },
    )

    # reset
    reset_joints = EventTerm(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={
            "asset_cfg": SceneEntityCfg("robot"),
            "position_range": (-math.pi / 8, math.pi / 8),
            "velocity_range": (0.0, 0.0),
        },
    )

    shove = EventTerm(
        func=mdp.apply_external_force_torque,
        mode="reset",
        params={
            "asset_cfg": SceneEntityCfg("robot", body_names="forearm"),
            "force_range": (-2.0, 2.0),
            "torque_range": (0.0, 0.0),
        },
    )

    gravity_tilt = EventTerm(
        func=mdp.randomize_physics_scene_gravity,
        mode="reset",
        params={"gravity_distribution_params": ([0.0, 0.0, 0.0], [0.1, 0.1, 0.2]), "operation": "add",
                "distribution": "gaussian"},
    )


@configclass
class EventCfg(BaseEventCfg):
    """The reach task's events."""

    gravity_tilt = None  # not in this task

    push_arm = EventTerm(
        func=mdp.push_by_setting_velocity,
        mode="interval",
        interval_range_s=(1.0, 3.0),
        params={"velocity_range": {"x": (-0.2, 0.2), "yaw": (-0.5, 0.5)}, "asset_cfg": SceneEntityCfg("arm")},
    )
