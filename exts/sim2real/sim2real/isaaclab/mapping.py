"""Which of our targets Isaac Lab's event functions can express, and how: the one table the exporter,
the importer, the documentation (docs/isaaclab.md) and the tests read.

A ``Role`` is one of our attributes as one parameter of one ``isaaclab.envs.mdp`` event function,
with the operations, distributions and events under which the two mean the same thing. Every
function and parameter named here exists in Isaac Lab 2.3.2 (``names.json``, read from its source;
a test checks it).

``shape`` says how a range is written in Isaac Lab:

* ``pair``: ``(a, b)``, one range for a scalar (or for every component of a vector alike);
* ``axes``: ``{"x": (lo, hi), ...}``, one range per named component (``axes``);
* ``vectors``: ``([a0, a1, a2], [b0, b1, b2])``, per-component parameters.

``(a, b)`` is ``(low, high)`` for uniform and log-uniform, ``(mean, std)`` for Isaac Lab's gaussian.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Shape = Literal["pair", "axes", "vectors"]
Selector = Literal["body", "joint", "asset", "none"]
ALL_OPS = frozenset({"set", "scale", "add"})
ALL_DISTS = frozenset({"uniform", "loguniform", "normal"})
UNIFORM = frozenset({"uniform"})
XYZ = ("x", "y", "z")
RPY = ("roll", "pitch", "yaw")

# our event -> Isaac Lab's mode (our "frame" and time-varying terms have no Isaac Lab event)
MODES = {"startup": "startup", "reset": "reset", "interval": "interval"}
FROM_MODES = {"startup": "startup", "prestartup": "startup", "reset": "reset", "interval": "interval"}


@dataclass(frozen=True)
class Func:
    """An event function: how its operation and distribution are given, what every term of it holds."""

    name: str
    operation: bool = False  # takes ``operation`` (add/scale/abs); else the op is fixed by its roles
    distribution: bool = False  # takes ``distribution``; else uniform
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters written with these values
    neutral: dict[str, Any] = field(default_factory=dict)  # required parameters no term sets: a no-op value
    selector: Selector = "none"
    merge: bool = False  # our terms on the same selector and event share one Isaac Lab term
    mode: dict[str, str] = field(default_factory=dict)  # our event -> Isaac Lab mode, where not MODES


@dataclass(frozen=True)
class Role:
    kind: str
    attr: str
    func: str
    params: tuple[str, ...]  # the parameter(s) our range goes into (friction: static and dynamic)
    shape: Shape = "pair"
    axes: tuple[str, ...] = ()
    ops: frozenset[str] = ALL_OPS
    dists: frozenset[str] = ALL_DISTS
    events: frozenset[str] = frozenset({"startup", "reset", "interval"})
    note: str = ""  # what differs, said in the export and in docs/isaaclab.md


# PhysX's default material (Isaac Lab's RigidBodyMaterialCfg defaults): what a material term writes for a
# property the profile does not randomize, since randomize_rigid_body_material requires all three.
MATERIAL_DEFAULTS = {
    "static_friction_range": (0.5, 0.5),
    "dynamic_friction_range": (0.5, 0.5),
    "restitution_range": (0.0, 0.0),
}
NUM_BUCKETS = 64  # what Isaac Lab's own tasks use; PhysX allows 64000 materials in a scene

FUNCS: dict[str, Func] = {
    f.name: f
    for f in (
        Func(
            "randomize_rigid_body_mass",
            operation=True,
            distribution=True,
            fixed={"recompute_inertia": True},
            selector="body",
        ),
        Func("randomize_rigid_body_com", selector="body"),
        Func(
            "randomize_rigid_body_material",
            fixed={"num_buckets": NUM_BUCKETS},
            neutral=dict(MATERIAL_DEFAULTS),
            selector="body",
            merge=True,
        ),
        Func("randomize_physics_scene_gravity", operation=True, distribution=True),
        Func("randomize_actuator_gains", operation=True, distribution=True, selector="joint"),
        Func("randomize_joint_parameters", operation=True, distribution=True, selector="joint"),
        Func(
            "reset_joints_by_offset",
            neutral={"position_range": (0.0, 0.0), "velocity_range": (0.0, 0.0)},
            selector="joint",
            merge=True,
        ),
        Func(
            "reset_joints_by_scale",
            neutral={"position_range": (1.0, 1.0), "velocity_range": (1.0, 1.0)},
            selector="joint",
            merge=True,
        ),
        Func(
            "reset_root_state_uniform",
            neutral={"pose_range": {}, "velocity_range": {}},
            selector="asset",
            merge=True,
        ),
        Func("push_by_setting_velocity", selector="asset"),
        Func(
            "apply_external_force_torque",
            neutral={"force_range": (0.0, 0.0), "torque_range": (0.0, 0.0)},
            selector="body",
            merge=True,
        ),
        Func("randomize_rigid_body_scale", selector="asset", mode={"startup": "prestartup"}),
    )
}

_STATE = frozenset({"reset", "interval"})
ROLES: tuple[Role, ...] = (
    Role("body", "mass", "randomize_rigid_body_mass", ("mass_distribution_params",)),  # inertia follows it
    Role("body", "com", "randomize_rigid_body_com", ("com_range",), "axes", XYZ, frozenset({"add"}), UNIFORM),
    Role(
        "geom",
        "friction",
        "randomize_rigid_body_material",
        ("static_friction_range", "dynamic_friction_range"),
        ops=frozenset({"set"}),
        dists=UNIFORM,
        note="Isaac Lab draws static and dynamic friction independently from this range, then "
        "make_consistent=True keeps dynamic <= static; ours sets both to one value",
    ),
    Role(
        "geom",
        "static_friction",
        "randomize_rigid_body_material",
        ("static_friction_range",),
        ops=frozenset({"set"}),
        dists=UNIFORM,
    ),
    Role(
        "geom",
        "dynamic_friction",
        "randomize_rigid_body_material",
        ("dynamic_friction_range",),
        ops=frozenset({"set"}),
        dists=UNIFORM,
    ),
    Role(
        "geom",
        "restitution",
        "randomize_rigid_body_material",
        ("restitution_range",),
        ops=frozenset({"set"}),
        dists=UNIFORM,
    ),
    Role(
        "world",
        "gravity",
        "randomize_physics_scene_gravity",
        ("gravity_distribution_params",),
        "vectors",
        note="Isaac Lab draws one gravity for the whole scene, ours one per environment",
    ),
    Role("actuator", "kp", "randomize_actuator_gains", ("stiffness_distribution_params",)),
    Role("actuator", "kv", "randomize_actuator_gains", ("damping_distribution_params",)),
    Role("joint", "armature", "randomize_joint_parameters", ("armature_distribution_params",)),
    Role(
        "joint",
        "frictionloss",
        "randomize_joint_parameters",
        ("friction_distribution_params",),
        ops=frozenset({"scale"}),
        note="a factor on the joint's friction: PhysX's friction coefficients are not a torque (MuJoCo's "
        "frictionloss is, in N·m), and Isaac Sim 5 scales the static, dynamic and viscous "
        "coefficients by the same draw",
    ),
    Role(
        "joint",
        "position",
        "reset_joints_by_offset",
        ("position_range",),
        ops=frozenset({"add"}),
        dists=UNIFORM,
        events=_STATE,
        note="clamped to the soft joint limits",
    ),
    Role(
        "joint",
        "position",
        "reset_joints_by_scale",
        ("position_range",),
        ops=frozenset({"scale"}),
        dists=UNIFORM,
        events=_STATE,
        note="clamped to the soft joint limits",
    ),
    Role(
        "joint",
        "velocity",
        "reset_joints_by_offset",
        ("velocity_range",),
        ops=frozenset({"add"}),
        dists=UNIFORM,
        events=_STATE,
    ),
    Role(
        "joint",
        "velocity",
        "reset_joints_by_scale",
        ("velocity_range",),
        ops=frozenset({"scale"}),
        dists=UNIFORM,
        events=_STATE,
    ),
    Role(
        "object",
        "position",
        "reset_root_state_uniform",
        ("pose_range",),
        "axes",
        XYZ,
        frozenset({"add"}),
        UNIFORM,
        _STATE,
        note="also writes the default root velocity plus any velocity_range",
    ),
    Role(
        "object",
        "orientation",
        "reset_root_state_uniform",
        ("pose_range",),
        "axes",
        RPY,
        frozenset({"add"}),
        UNIFORM,
        _STATE,
    ),
    Role(
        "object",
        "velocity",
        "push_by_setting_velocity",
        ("velocity_range",),
        "axes",
        XYZ + RPY,
        frozenset({"add"}),
        UNIFORM,
    ),
    Role(
        "object",
        "velocity",
        "reset_root_state_uniform",
        ("velocity_range",),
        "axes",
        XYZ + RPY,
        frozenset({"add"}),
        UNIFORM,
        _STATE,
        note="Isaac Lab adds it to the default root velocity, sim2real to the current one (the same right "
        "after a reset)",
    ),  # after push_by_setting_velocity: what the export picks for an object velocity
    Role(
        "body",
        "force",
        "apply_external_force_torque",
        ("force_range",),
        ops=frozenset({"set"}),
        dists=UNIFORM,
        note="Isaac Lab applies the wrench in each body's own frame, ours in the world frame (equal at the "
        "default orientation); one range for the three components",
    ),
    Role(
        "body",
        "torque",
        "apply_external_force_torque",
        ("torque_range",),
        ops=frozenset({"set"}),
        dists=UNIFORM,
    ),
    Role(
        "object",
        "scale",
        "randomize_rigid_body_scale",
        ("scale_range",),
        ops=frozenset({"scale"}),
        dists=UNIFORM,
        events=frozenset({"startup"}),
        note="USD-level, before the simulation starts (mode prestartup, replicate_physics=False); Isaac Lab "
        "writes the scale itself, equal to our factor for assets spawned at scale 1",
    ),
)

# Targets with no Isaac Lab event function, and what to use instead (the export lists them).
NOT_EXPRESSIBLE: dict[str, str] = {
    "light": "lighting stays with Replicator / sim2real's Kit layer (no Isaac Lab event function)",
    "material": "appearance: randomize_visual_texture_material / randomize_visual_color or Replicator; "
    "not exported",
    "camera": "camera poses and intrinsics stay with Replicator / sim2real's Kit layer",
    "image": "image effects are applied after rendering (sim2real's effects), not an Isaac Lab event",
    "scene": "object counts stay with sim2real's scene slots",
    "sensor": "sensor noise belongs to Isaac Lab's observation terms (ObservationTermCfg noise=...), "
    "not to events",
    "actuator:latency": "Isaac Lab models delay in the actuator config (DelayedPDActuatorCfg min_delay / "
    "max_delay), not as an event",
    "actuator:gain_error": "no Isaac Lab event scales commands",
    "actuator:gear": "no Isaac Lab event randomizes gear ratios",
    "joint:damping": "PhysX has no passive joint damping besides the drive's (randomize_actuator_gains "
    "damping, our actuator kv); Isaac Lab randomizes the viscous friction coefficient only "
    "together with the static one",
    "joint:stiffness": "PhysX has no passive joint stiffness besides the drive's (our actuator kp)",
    "geom:torsional_friction": "PhysX materials have no torsional friction",
    "geom:rolling_friction": "PhysX materials have no rolling friction",
    "object:visible": "no Isaac Lab event hides an asset",
    "object:asset": "asset choice is a scene (spawner) setting in Isaac Lab, not an event",
}


def roles_for(kind: str, attr: str) -> list[Role]:
    return [r for r in ROLES if (r.kind, r.attr) == (kind, attr)]


def unexpressible_reason(kind: str, attr: str) -> str:
    return (
        NOT_EXPRESSIBLE.get(f"{kind}:{attr}")
        or NOT_EXPRESSIBLE.get(kind)
        or f"Isaac Lab has no event function for {kind}/{attr}"
    )
