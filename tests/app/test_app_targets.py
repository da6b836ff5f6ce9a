"""Deploy targets: a TOML file round trip that can hold no secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sim2real.app.targets import TargetsStore
from sim2real.errors import ConfigError

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def test_targets_round_trip_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "targets.toml"
    store = TargetsStore(path)
    assert store.put({"name": "jetson", "host": "192.168.1.42", "user": "nvidia", "port": 2222,
                      "identity_file": "~/.ssh/id_ed25519", "known_hosts": str(tmp_path / "known_hosts")})
    assert store.put({"name": "lab", "host": "::1", "user": "robot", "identity_file": ""})
    assert store.put({"name": "jetson", "host": "jetson.local", "user": "nvidia", "port": 22,  # replaces by name
                      "identity_file": "~/.ssh/id_ed25519", "known_hosts": "/etc/ssh/ssh_known_hosts"})
    again = TargetsStore(path)
    assert [t.model_dump() for t in again.targets] == [t.model_dump() for t in store.targets]
    assert again.get("jetson").address == "nvidia@jetson.local" and again.get("lab").address == "robot@[::1]"
    assert again.get("lab").ssh_args() == ["--target", "robot@[::1]"]
    assert again.get("jetson").ssh_args() == ["--target", "nvidia@jetson.local", "--identity",
                                              str(Path("~/.ssh/id_ed25519").expanduser()), "--known-hosts",
                                              "/etc/ssh/ssh_known_hosts"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # secrets are refused, and nothing of them reaches the file
    before = path.read_bytes()
    assert store.put({"name": "x", "host": "h", "user": "u", "password": "hunter2"}) is None
    assert "password" in store.errors and "not one" in store.errors["password"]
    assert store.put({"name": "x", "host": "h", "user": "u", "identity_file": KEY}) is None
    assert store.errors == {"identity_file": "expected the path of a file (never key contents)"}  # not echoed
    assert store.put({"name": "x", "host": "h", "user": "u", "passphrase": "p"}) is None
    assert path.read_bytes() == before
    text = path.read_text()
    for word in ("hunter2", "BEGIN", "password", "passphrase"):
        assert word not in text
    keys = {line.split("=")[0].strip() for line in text.splitlines() if "=" in line}
    assert keys == {"name", "host", "user", "port", "identity_file", "known_hosts"}


def test_a_hand_edited_secret_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[[targets]]\nname = "j"\nhost = "h"\nuser = "u"\npassword = "x"\n')
    with pytest.raises(ConfigError, match=r"targets\.toml: targets\[0\]\.password: expected a known key"):
        TargetsStore(path)


def test_key_material_in_a_file_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[[targets]]\nname = "j"\nhost = "h"\nuser = "u"\nidentity_file = """' + KEY + '"""\n')
    with pytest.raises(ConfigError) as info:
        TargetsStore(path)
    assert str(info.value) == f"{path}: targets[0].identity_file: expected the path of a file (never key contents)"


def test_bad_fields_are_filed_by_name(tmp_path: Path) -> None:
    store = TargetsStore(tmp_path / "t.toml")
    assert store.put({"name": "j", "host": "bad host!", "user": "u"}) is None
    assert list(store.errors) == ["host"]
    assert store.put({"name": "j", "host": "h", "user": "u", "port": 70000}) is None
    assert list(store.errors) == ["port"]
    with pytest.raises(ConfigError, match="a target named 'nope'"):
        store.get("nope")
    assert not (tmp_path / "t.toml").exists()
