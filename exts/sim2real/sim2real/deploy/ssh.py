"""SSH targets, the host-key policy and connections (asyncssh).

Security model (docs/deploy.md):

* host keys are ALWAYS checked against a known_hosts file (``--known-hosts FILE``, default
  ``~/.ssh/known_hosts``); asyncssh is never given ``known_hosts=None`` (which would accept any key);
* a host with no entry is refused unless ``--accept-new-host-key`` is given: then its key is
  fetched, recorded in the known_hosts file (``[host]:port`` form for other ports) and the
  connection is made against the recorded key - the same rule as OpenSSH's
  ``StrictHostKeyChecking=accept-new``. The fingerprint is shown, to be compared with the device's
  (``ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`` on it);
* a host whose recorded key differs is refused even with ``--accept-new-host-key`` (a changed key
  is what an attacker in the middle looks like); the user removes the old entry by hand
  (``ssh-keygen -R '[host]:port' -f FILE``) after checking;
* user keys: ``--identity KEY`` uses that key only (like ``IdentitiesOnly``); without it, the
  ssh-agent (``SSH_AUTH_SOCK``) and the default ``~/.ssh/id_*`` keys. An encrypted key file is not
  decrypted here (no passphrase prompt, nothing to store): load it into ssh-agent instead;
* nothing secret is logged or written: logs name the target, key fingerprints and file paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, RemoteError, UserError

log = logging.getLogger(__name__)
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
_TARGET = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<ip6>[^\]]+)\]|(?P<host>[^:\s\[\]@]+))(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class Target:
    user: str
    host: str
    port: int = 22

    @classmethod
    def parse(cls, text: str) -> Target:
        """``user@host[:port]`` (IPv6: ``user@[::1]:2222``); the user defaults to the local one."""
        m = _TARGET.match(text.strip())
        port = int(m.group("port")) if m and m.group("port") else 22
        if not m or not 0 < port < 65536:
            raise UserError(f"--target: expected user@host[:port] (got {text!r})")
        return cls(m.group("user") or getpass.getuser(), m.group("ip6") or m.group("host"), port)

    @property
    def known_hosts_name(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}" + ("" if self.port == 22 else f":{self.port}")


@dataclass(frozen=True)
class Auth:
    identity: Path | None = None
    known_hosts: Path | None = None
    accept_new_host_key: bool = False
    connect_timeout_s: float = 20.0

    @property
    def known_hosts_path(self) -> Path:
        return (self.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()


def import_asyncssh() -> Any:
    """asyncssh, imported without the ``CryptographyDeprecationWarning`` lines (DSA) that its own
    modules raise at import in cryptography >= 43: they are about asyncssh, not the user's keys,
    and would precede every one-line answer. Only that category from asyncssh's modules is hidden."""
    try:
        with warnings.catch_warnings():
            with contextlib.suppress(ImportError):
                from cryptography.utils import CryptographyDeprecationWarning

                warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|$)")
            import asyncssh
    except ImportError:
        from ..errors import NotInstalledError

        raise NotInstalledError("asyncssh (deploy over SSH)", "pip install 'sim2real[deploy]'") from None
    return asyncssh


def load_known_hosts(path: Path) -> Any:
    """The known_hosts file as an asyncssh object (an absent file: no host is known)."""
    asyncssh = import_asyncssh()
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise InputError(f"{path}: cannot read the known_hosts file ({exc})") from None
    try:
        return asyncssh.import_known_hosts(text)
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise InputError(f"{path}: not a known_hosts file ({exc})") from None


def is_known(known: Any, target: Target) -> bool:
    """Does the known_hosts data hold any key (or CA) for this host and port?"""
    matched = import_asyncssh().match_known_hosts(known, target.host, target.host, target.port)
    return bool(matched[0] or matched[1])


def record_host_key(path: Path, target: Target, key: Any) -> str:
    """Append ``target``'s key to the known_hosts file (created 0600 in a 0700 folder)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    algorithm, blob = key.export_public_key("openssh").decode().split()[:2]
    line = f"{target.known_hosts_name} {algorithm} {blob}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
    return line


def _identity(path: Path) -> Any:
    asyncssh = import_asyncssh()
    path = path.expanduser()
    try:
        return asyncssh.read_private_key(str(path))
    except FileNotFoundError:
        raise InputError(f"--identity {path}: no such key file") from None
    except asyncssh.KeyEncryptionError:
        raise UserError(f"--identity {path}: the key is encrypted; load it into ssh-agent (ssh-add {path}) and "
                        "run without --identity") from None
    except (asyncssh.KeyImportError, OSError, ValueError) as exc:
        raise InputError(f"--identity {path}: not a private key ({exc})") from None


async def connect(target: Target, auth: Auth) -> Any:
    """An authenticated ``asyncssh.SSHClientConnection`` under the host-key policy above."""
    asyncssh = import_asyncssh()
    options: dict[str, Any] = {"port": target.port, "username": target.user,
                               "connect_timeout": auth.connect_timeout_s}
    if auth.identity is not None:
        options.update(client_keys=[_identity(auth.identity)], agent_path=None)
    path = auth.known_hosts_path
    known = load_known_hosts(path)
    try:
        try:
            return await asyncssh.connect(target.host, known_hosts=known, **options)
        except asyncssh.HostKeyNotVerifiable:
            pass
        key = await asyncio.wait_for(asyncssh.get_server_host_key(target.host, target.port), auth.connect_timeout_s)
        fingerprint = key.get_fingerprint("sha256") if key is not None else "unknown"
        if is_known(known, target):
            raise RemoteError(f"{target}: HOST KEY CHANGED (now {fingerprint}, not the one recorded in {path}); "
                              "refusing to connect. If the device was re-installed, check the new key on it and "
                              f"remove the old entry: ssh-keygen -R '{target.known_hosts_name}' -f {path}")
        if not auth.accept_new_host_key:
            raise UserError(f"{target}: unknown host key {fingerprint} (not in {path}); check it on the device, then "
                            "re-run with --accept-new-host-key to record it")
        record_host_key(path, target, key)
        log.warning("recorded the host key of %s (%s) in %s", target, fingerprint, path)
        return await asyncssh.connect(target.host, known_hosts=load_known_hosts(path), **options)
    except asyncssh.PermissionDenied:
        how = f"the key {auth.identity}" if auth.identity else "the ssh-agent's and ~/.ssh's keys"
        raise RemoteError(f"{target}: permission denied: the device accepted none of {how}; add the public key to "
                          f"~{target.user}/.ssh/authorized_keys on the device") from None
    except asyncssh.HostKeyNotVerifiable as exc:
        raise RemoteError(f"{target}: host key not verifiable ({exc.reason}); refusing to connect") from None
    except (OSError, asyncssh.Error, asyncio.TimeoutError) as exc:
        raise RemoteError(f"{target}: cannot connect ({type(exc).__name__}: {exc})") from None
