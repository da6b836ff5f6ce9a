"""Deploy targets (Jetsons reachable over SSH), kept in a TOML file that holds no secret.

A target is a name, host, user, port, and the *paths* of an identity (private key) file and a
known_hosts file. There is no field for a password, a passphrase or key contents, and unknown keys
are refused, so a secret cannot be stored by mistake; a path that looks like key material (several
lines, a PEM header) is refused too. Authentication happens at push time through ssh-agent or the
identity file, with host keys checked (``sim2real.deploy.ssh``).

The file (default ``$XDG_CONFIG_HOME/sim2real/targets.toml``) is written atomically with mode 0600::

    [[targets]]
    name = "jetson"
    host = "192.168.1.42"
    user = "nvidia"
    port = 22
    identity_file = "~/.ssh/id_ed25519"
    known_hosts = "~/.ssh/known_hosts"
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from ..config import StrictModel, parse_model, read_toml
from ..errors import ConfigError
from ..fsutil import atomic_write_text
from .forms import field_message
from .observable import Observable

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|[A-Za-z0-9._-]+)$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]{0,63}$")


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sim2real" / "targets.toml"


def _path_not_secret(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or any(c in value for c in "\n\r\x00") or "-----BEGIN" in value or len(value) > 4096:
        raise ValueError("expected the path of a file (never key contents)")
    return value


class DeployTarget(StrictModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]*$", title="Name",
                      description="what the Deploy form calls this device")
    host: str = Field(min_length=1, max_length=253, title="Host", description="name or IP address")
    user: str = Field(title="User", description="the SSH login on the device")
    port: int = Field(22, ge=1, le=65535, title="SSH port")
    identity_file: str | None = Field(None, title="Private key file",
                                      description="a path; empty: ssh-agent and ~/.ssh keys")
    known_hosts: str | None = Field(None, title="known_hosts file",
                                    description="a path; empty: ~/.ssh/known_hosts (host keys are always checked)")
    python: str | None = Field(None, min_length=1, max_length=4096, pattern=r"^[^\x00-\x1f]+$",
                               title="Python on the device", description="empty: python3")

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not _HOST.match(v):
            raise ValueError("expected a host name, IPv4 or IPv6 address")
        return v

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        if not _USER.match(v):
            raise ValueError("expected a login name (letters, digits, . _ -)")
        return v

    @field_validator("identity_file", "known_hosts")
    @classmethod
    def _paths(cls, v: str | None) -> str | None:
        return _path_not_secret(v)

    @property
    def address(self) -> str:
        """``user@host[:port]`` as ``sim2real deploy --target`` takes it."""
        host = self.host.strip("[]")
        host = f"[{host}]" if ":" in host else host
        return f"{self.user}@{host}" + ("" if self.port == 22 else f":{self.port}")

    def ssh_args(self) -> list[str]:
        """``--target`` and the paths for the ``sim2real deploy`` commands (no secret: only paths)."""
        args = ["--target", self.address]
        if self.identity_file:
            args += ["--identity", str(Path(self.identity_file).expanduser())]
        if self.known_hosts:
            args += ["--known-hosts", str(Path(self.known_hosts).expanduser())]
        if self.python:  # a device whose numpy/onnxruntime live in a venv
            args += ["--python", self.python]
        return args


def _redacted(err: ConfigError) -> ConfigError:
    """The error without the value when it is about a key file field (the value may be key material)."""
    if (err.key or "").rsplit(".", 1)[-1] in ("identity_file", "known_hosts"):
        return ConfigError(err.file, err.key, err.expected)
    return err


class TargetsFile(StrictModel):
    targets: list[DeployTarget] = []


class TargetsStore(Observable):
    """The deploy targets of the panel: add, replace, remove, saved at once."""

    def __init__(self, path: str | PathLike[str] | None = None) -> None:
        super().__init__()
        self.path = Path(path) if path is not None else default_path()
        self.targets: list[DeployTarget] = []
        self.errors: dict[str, str] = {}  # field -> message of the last refused edit
        if self.path.exists():
            try:
                self.targets = parse_model(read_toml(self.path), TargetsFile, source=self.path).targets
            except ConfigError as err:
                raise _redacted(err) from None

    def get(self, name: str) -> DeployTarget:
        for t in self.targets:
            if t.name == name:
                return t
        raise ConfigError(self.path, "targets", f"a target named {name!r} ({', '.join(self.names()) or 'none stored'})")

    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    def put(self, values: Mapping[str, Any]) -> DeployTarget | None:
        """Add a target, or replace the one of the same name; None (and ``errors`` set) when invalid."""
        clean = {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in values.items()}
        try:
            target = parse_model({k: v for k, v in clean.items() if v is not None}, DeployTarget)
        except ConfigError as err:
            with self._lock:
                self.errors = {(err.key or "").split(".")[0]: field_message(_redacted(err))}
            self._changed()
            return None
        with self._lock:
            self.targets = [t for t in self.targets if t.name != target.name] + [target]
            self.errors = {}
            self._save()
        self._changed()
        return target

    def remove(self, name: str) -> None:
        with self._lock:
            self.targets = [t for t in self.targets if t.name != name]
            self._save()
        self._changed()

    def _save(self) -> None:
        import tomli_w

        # one [[targets]] table each (tomli_w would write an inline array, harder to edit by hand)
        tables = ["[[targets]]\n" + tomli_w.dumps(t.model_dump(mode="json", exclude_none=True)) for t in self.targets]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, "# sim2real deploy targets: no secrets here (paths only)\n\n" + "\n".join(tables))
        os.chmod(self.path, 0o600)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"revision": self.revision, "path": str(self.path),
                    "targets": [{**t.model_dump(mode="json"), "address": t.address} for t in self.targets],
                    "errors": dict(self.errors)}
