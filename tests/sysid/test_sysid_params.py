"""Parameter names: randomization targets expanded over a model, with one-line errors for mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim2real.errors import ConfigError
from sim2real.sysid.analytic import MassSpringDamper
from sim2real.sysid.params import SCALE_BOUNDS, parse_params, resolve_params
from sysid_fixtures import arm2_sim_fixture  # noqa: F401 (fixtures by name)


def test_patterns_expand_per_entity_and_latency_is_tied(arm2_sim) -> None:
    params = resolve_params(parse_params("joint:*/damping,actuator:*/latency,sensor:elbow_pos/bias"), arm2_sim,
                            channel_spread={"elbow_pos": 2.0})
    assert [p.name for p in params] == ["joint:shoulder/damping", "joint:elbow/damping", "actuator:*/latency",
                                        "sensor:elbow_pos/bias"]
    damping, latency, bias = params[0], params[2], params[3]
    assert (damping.op, damping.init, (damping.low, damping.high), damping.unit) == ("scale", 1.0, SCALE_BOUNDS, "×")
    assert damping.defaults == [pytest.approx(0.05)] and damping.absolute(2.0) == [pytest.approx(0.1)]
    assert latency.keys == ["actuator:shoulder/latency", "actuator:elbow/latency"] and latency.route == "command"
    assert latency.op == "set" and latency.low == 0 and latency.high == 125  # 0.25 s of 2 ms steps
    assert (bias.route, bias.low, bias.high, bias.unit) == ("output", -2.0, 2.0, "rad")


def test_toml_parameters_with_op_bounds_and_names(tmp_path: Path, arm2_sim) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[params]]\ntarget = "actuator:*/kp"\ntied = true\nname = "gain"\nbounds = [0.5, 2]\ninit = 1.1\n'
                    '[[params]]\ntarget = "joint:elbow/frictionloss"\nop = "set"\nbounds = [0, 0.5]\n')
    gain, friction = resolve_params(parse_params(path), arm2_sim)
    assert gain.name == "gain" and gain.keys == ["actuator:shoulder/kp", "actuator:elbow/kp"] and gain.init == 1.1
    assert gain.absolute(1.1) == [pytest.approx(33.0), pytest.approx(16.5)]
    assert friction.op == "set" and friction.init == pytest.approx(0.02) and friction.unit == "N·m"


@pytest.mark.parametrize(("text", "message"), [
    ("body:upperarm/mass", (r"params\[0\] 'body:upperarm/mass': expected a body name of arm2.xml \(known: "
                            r".*upper_arm, forearm\)")),
    ("joint:*/dampin", "expected an attribute of joint among damping, armature"),
    ("light:*/intensity", "expected a parameter identifiable from robot logs"),
    ("joint:*/damping,joint:elbow/damping", r"each key identified once \(joint:elbow/damping is already in"),
    ("sensor:elbow_pos/bias", None),
])
def test_bad_parameter_names_are_one_line(arm2_sim, text: str, message: str | None) -> None:
    if message is None:
        resolve_params(parse_params(text), arm2_sim)
        return
    with pytest.raises(ConfigError, match=message) as exc:
        resolve_params(parse_params(text), arm2_sim, source="--params")
    assert "\n" not in str(exc.value) and str(exc.value).startswith("--params: params[")


def test_scale_of_a_zero_default_and_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[params]]\ntarget = "actuator:force/latency"\nop = "scale"\n')
    with pytest.raises(ConfigError, match=r"\.op: expected 'set' or 'add' for actuator/latency"):
        resolve_params(parse_params(path), MassSpringDamper())
    path.write_text('[[params]]\ntarget = "body:mass/mass"\nbound = [1, 2]\n')
    with pytest.raises(ConfigError, match="bound"):
        parse_params(path)
    path.write_text('[[params]]\ntarget = "body:mass/mass"\ninit = 20\n')
    with pytest.raises(ConfigError, match=r"init: expected a start value inside the bounds \[0.1, 10\]"):
        resolve_params(parse_params(path), MassSpringDamper())
    with pytest.raises(ConfigError, match="expected a parameter the msd simulator can apply"):
        resolve_params(parse_params("joint:x/armature"), MassSpringDamper())
