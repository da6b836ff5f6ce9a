"""What a profile can randomize: the target grammar and the catalogue of attributes.

A target is ``KIND:PATTERN/ATTRIBUTE``:

* ``KIND`` names a kind of scene entity (``light``, ``material``, ``object``, ``camera``, ``geom``,
  ``body``, ``joint``, ``actuator``, ``sensor``, ``image``, ``world``, ``scene``);
* ``PATTERN`` is a shell-style pattern (``*``, ``?``, ``[ab]``) over the entity names a backend
  reports for that kind (``Backend.entities()``), e.g. ``light:*``, ``object:mug*``;
* ``ATTRIBUTE`` is one of the attributes this catalogue lists for the kind.

Singleton kinds (``world``, ``scene``) may omit the pattern: ``world:gravity`` is ``world:world/gravity``.

The catalogue is engine-neutral: each backend declares which ``(kind, attribute)`` pairs it can apply
in its ``Capabilities``; a profile asking for one it cannot apply is an error listing what it can.

Resolved keys, used in samples and per-frame records, are ``KIND:ENTITY/ATTRIBUTE`` with a concrete
entity name, e.g. ``light:key/intensity``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..errors import did_you_mean

ValueKind = Literal["float", "int", "bool", "choice"]
Op = Literal["set", "scale", "add"]
Category = Literal["lighting", "materials", "objects", "camera", "physics", "sensors", "actuators"]

SINGLETONS = {"world": "world", "scene": "scene"}


@dataclass(frozen=True)
class Attribute:
    """One randomizable attribute: value shape, type, default operation, unit and meaning."""

    kind: str
    name: str
    category: Category
    shape: tuple[int, ...] = ()
    value: ValueKind = "float"
    default_op: Op = "set"
    unit: str = ""
    doc: str = ""
    nonnegative: bool = False


def _a(kind: str, name: str, category: Category, **kw: object) -> Attribute:
    return Attribute(kind, name, category, **kw)  # type: ignore[arg-type]


CATALOGUE: tuple[Attribute, ...] = (
    # lighting
    _a("light", "intensity", "lighting", default_op="scale", nonnegative=True,
       doc="brightness; with set, engine units (MuJoCo diffuse level, USD inputs:intensity)"),
    _a("light", "color", "lighting", shape=(3,), unit="linear RGB 0..1", nonnegative=True),
    _a("light", "temperature", "lighting", unit="K", nonnegative=True,
       doc="colour temperature, converted to RGB (MuJoCo) or colorTemperature (USD)"),
    _a("light", "exposure", "lighting", unit="stops (EV)", default_op="add",
       doc="brightness x 2^exposure (USD inputs:exposure)"),
    _a("light", "position", "lighting", shape=(3,), unit="m", default_op="add"),
    _a("light", "direction", "lighting", shape=(3,), unit="unit vector", doc="normalised by the backend"),
    _a("light", "enabled", "lighting", value="bool"),
    _a("light", "shadows", "lighting", value="bool"),
    # materials (the visual appearance of a geom / a USD material)
    _a("material", "base_color", "materials", shape=(3,), unit="RGB 0..1", nonnegative=True),
    _a("material", "texture", "materials", value="choice", doc="an image file, chosen from a folder"),
    _a("material", "texture_scale", "materials", shape=(2,), default_op="scale", nonnegative=True),
    _a("material", "roughness", "materials", unit="0..1", nonnegative=True),
    _a("material", "metallic", "materials", unit="0..1", nonnegative=True),
    _a("material", "specular", "materials", unit="0..1", nonnegative=True),
    # objects
    _a("object", "position", "objects", shape=(3,), unit="m", default_op="add", doc="pose jitter"),
    _a("object", "orientation", "objects", shape=(3,), unit="rad (roll, pitch, yaw; extrinsic XYZ)",
       default_op="add", doc="pose jitter"),
    _a("object", "scale", "objects", default_op="scale", nonnegative=True),
    _a("object", "visible", "objects", value="bool"),
    _a("object", "asset", "objects", value="choice", doc="which library asset fills this object slot"),
    _a("object", "velocity", "objects", shape=(6,), unit="m/s, rad/s (vx, vy, vz, wx, wy, wz; world frame)",
       default_op="add",
       doc="root velocity of a free object (state: add acts on the current velocity: a push)"),
    _a("scene", "object_count", "objects", value="int", nonnegative=True,
       doc="how many object slots are filled (the rest are hidden)"),
    # camera (orbit around a look-at point, plus intrinsics)
    _a("camera", "distance", "camera", unit="m", nonnegative=True),
    _a("camera", "azimuth", "camera", unit="rad"),
    _a("camera", "elevation", "camera", unit="rad"),
    _a("camera", "roll", "camera", unit="rad"),
    _a("camera", "look_at", "camera", shape=(3,), unit="m"),
    _a("camera", "position", "camera", shape=(3,), unit="m", default_op="add"),
    _a("camera", "fovy", "camera", unit="deg", nonnegative=True, doc="vertical field of view"),
    _a("camera", "principal_offset", "camera", shape=(2,), unit="px", default_op="add",
       doc="shift of the principal point (cx, cy)"),
    # physics
    _a("geom", "friction", "physics", default_op="scale", nonnegative=True,
       doc="sliding friction (MuJoCo friction[0]; PhysX static and dynamic together)"),
    _a("geom", "static_friction", "physics", default_op="scale", nonnegative=True),
    _a("geom", "dynamic_friction", "physics", default_op="scale", nonnegative=True),
    _a("geom", "torsional_friction", "physics", default_op="scale", nonnegative=True),
    _a("geom", "rolling_friction", "physics", default_op="scale", nonnegative=True),
    _a("geom", "restitution", "physics", unit="0..1", nonnegative=True,
       doc="bounciness (MuJoCo: through solref damping ratio, see the backend docs)"),
    _a("body", "mass", "physics", unit="kg", default_op="scale", nonnegative=True,
       doc="inertia is scaled by the same factor"),
    _a("body", "com", "physics", shape=(3,), unit="m", default_op="add", doc="centre of mass offset"),
    _a("body", "force", "physics", shape=(3,), unit="N (world frame, at the centre of mass)",
       doc="external force, held until the next draw or reset"),
    _a("body", "torque", "physics", shape=(3,), unit="N·m (world frame)",
       doc="external torque, held until the next draw or reset"),
    _a("world", "gravity", "physics", shape=(3,), unit="m/s^2"),
    _a("joint", "damping", "physics", unit="N·m·s/rad", default_op="scale", nonnegative=True),
    _a("joint", "armature", "physics", unit="kg·m^2", default_op="scale", nonnegative=True),
    _a("joint", "frictionloss", "physics", unit="N·m", default_op="scale", nonnegative=True),
    _a("joint", "stiffness", "physics", unit="N·m/rad", default_op="scale", nonnegative=True),
    _a("joint", "position", "physics", unit="rad or m", default_op="add",
       doc="joint state (add/scale act on the current position, the default right after a reset)"),
    _a("joint", "velocity", "physics", unit="rad/s or m/s", default_op="add",
       doc="joint state, like position"),
    _a("actuator", "kp", "physics", default_op="scale", nonnegative=True, doc="position gain"),
    _a("actuator", "kv", "physics", default_op="scale", nonnegative=True, doc="velocity gain"),
    _a("actuator", "gear", "physics", default_op="scale"),
    # sensors: image-space effects applied after rendering (entity = camera name)
    _a("image", "noise_std", "sensors", unit="fraction of full scale", nonnegative=True, doc="Gaussian noise"),
    _a("image", "shot_noise", "sensors", unit="photons at full scale (0 = off)", nonnegative=True,
       doc="Poisson noise"),
    _a("image", "blur", "sensors", unit="px (Gaussian sigma)", nonnegative=True),
    _a("image", "brightness", "sensors", unit="multiplier", nonnegative=True),
    _a("image", "contrast", "sensors", unit="multiplier", nonnegative=True),
    _a("image", "saturation", "sensors", unit="multiplier", nonnegative=True),
    _a("image", "hue", "sensors", unit="deg"),
    _a("image", "depth_noise_std", "sensors", unit="m", nonnegative=True),
    _a("image", "depth_holes", "sensors", unit="fraction of pixels", nonnegative=True),
    # sensors: proprioceptive (entity = sensor name)
    _a("sensor", "noise_std", "sensors", nonnegative=True, doc="white noise, sensor units"),
    _a("sensor", "bias", "sensors", doc="constant offset, sensor units"),
    # actuators
    _a("actuator", "latency", "actuators", value="int", unit="physics steps", nonnegative=True),
    _a("actuator", "gain_error", "actuators", default_op="set", unit="multiplier on commands", nonnegative=True),
)

KINDS: tuple[str, ...] = tuple(dict.fromkeys(a.kind for a in CATALOGUE))
_BY_KEY: dict[tuple[str, str], Attribute] = {(a.kind, a.name): a for a in CATALOGUE}

_TARGET_RE = re.compile(r"^(?P<kind>[a-z_]+):(?:(?P<pattern>[^/]+)/)?(?P<attr>[a-z_]+)$")


@dataclass(frozen=True)
class Target:
    """A parsed selector ``kind:pattern/attribute``."""

    kind: str
    pattern: str
    attribute: Attribute

    @property
    def text(self) -> str:
        return f"{self.kind}:{self.pattern}/{self.attribute.name}"

    def match(self, entities: list[str]) -> list[str]:
        """The entity names this target selects, in the backend's order."""
        return [e for e in entities if fnmatch.fnmatchcase(e, self.pattern)]

    def key(self, entity: str) -> str:
        return resolved_key(self.kind, entity, self.attribute.name)


def resolved_key(kind: str, entity: str, attribute: str) -> str:
    return f"{kind}:{entity}/{attribute}"


def split_key(key: str) -> tuple[str, str, str]:
    """'light:key/intensity' -> ('light', 'key', 'intensity')."""
    kind, rest = key.split(":", 1)
    entity, attr = rest.rsplit("/", 1)
    return kind, entity, attr


def attribute(kind: str, name: str) -> Attribute | None:
    return _BY_KEY.get((kind, name))


def attributes_of(kind: str) -> list[str]:
    return [a.name for a in CATALOGUE if a.kind == kind]


def parse_target(text: str) -> Target:
    """Parse a selector; raises ``ValueError`` with an 'expected ...' message on bad input."""
    m = _TARGET_RE.match(text.strip())
    if not m:
        raise ValueError(f"expected a target 'kind:pattern/attribute' such as 'light:*/intensity' (got {text!r})")
    kind, pattern, attr = m["kind"], m["pattern"], m["attr"]
    if kind not in KINDS:
        raise ValueError(f"expected a target kind among {', '.join(KINDS)} (got {kind!r} in {text!r})"
                         + _hint(kind, KINDS))
    if pattern is None:
        if kind not in SINGLETONS:
            raise ValueError(f"expected 'kind:pattern/attribute'; {kind!r} needs an entity pattern (got {text!r})")
        pattern = SINGLETONS[kind]
    spec = attribute(kind, attr)
    if spec is None:
        raise ValueError(f"expected an attribute of {kind} among {', '.join(attributes_of(kind))} (got {attr!r})"
                         + _hint(attr, attributes_of(kind)))
    return Target(kind, pattern, spec)


def _hint(word: str, options: Iterable[str]) -> str:
    hint = did_you_mean(word, options)
    return f"; {hint}" if hint else ""
