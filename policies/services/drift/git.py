"""Git sources: cloning and fetching with the git command line into
``settings.NETPOLUI_GIT_DIR``, which locations non-admins may fetch (no requests into
the server's own network), and credentials kept out of messages (``redact``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from ...models import DesiredSource
from ...redaction import redact_credentials
from ...roles import ADMIN, has_role
from .errors import SourceUnreadable

log = logging.getLogger(__name__)


def git_timeout() -> int:
    return int(getattr(settings, "NETPOLUI_GIT_TIMEOUT", 120))


# --- Git -------------------------------------------------------------------------------------------

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
GIT_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://")


def redact(text: str) -> str:
    """Hide user:password in URLs (tokens in clone URLs must never reach a page)."""
    return redact_credentials(text)


def is_local_git_location(location: str) -> bool:
    return location.startswith(("/", "~", "file://", "."))


def git_location_error(location: str) -> str | None:
    """Why `location` is not a Git URL or repository path we will clone, or None."""
    location = location.strip()
    if not location:
        return "give the repository URL or path"
    if location.startswith("-"):
        return "must not start with '-'"
    if location.startswith(GIT_SCHEMES) or _SCP_LIKE.match(location) or location.startswith(("/", "~")):
        return None
    return "must be an https://, ssh://, git:// or file:// URL, user@host:path, or an absolute path"


def _git_env(ssh_pinned: str = "") -> dict[str, str]:
    env = dict(os.environ)
    ssh = env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=20")
    env.update(
        {
            # Never wait for a password or a host-key answer: fail and say so.
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "SSH_ASKPASS": "true",
            "GIT_SSH_COMMAND": f"{ssh} {ssh_pinned}" if ssh_pinned else ssh,
            "LC_ALL": "C",
        }
    )
    return env


class GitFailed(SourceUnreadable):
    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what} failed: {reason}")


def _run_git(args: Sequence[str], cwd: Path, what: str, *, restricted: bool = False, pinned: Pin | None = None) -> str:
    command = ["git", "-c", "protocol.ext.allow=never", "-c", "core.hooksPath=/dev/null"]
    if restricted:
        # No redirect to another host, and no protocol but the ones allowed.
        command += ["-c", "http.followRedirects=false", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always"]
        if getattr(settings, "NETPOLUI_GIT_SSH", False):
            command += ["-c", "protocol.ssh.allow=always"]
    if pinned and pinned.curl_resolve:
        command += ["-c", f"http.curloptResolve={pinned.curl_resolve}"]
    command += list(args)
    try:
        # A session of its own, so a timeout ends git's helpers (ssh, remote-https) too.
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=_git_env(pinned.ssh_options if pinned else ""),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitFailed(what, "the git command is not installed on the netpolui server") from None
    try:
        stdout, stderr = process.communicate(timeout=git_timeout())
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise GitFailed(what, f"timed out after {git_timeout()} s") from None
    if process.returncode != 0:
        raise GitFailed(what, _git_reason(stderr))
    return stdout


def _git_reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line.removeprefix("fatal:").strip() for line in lines if line.startswith(("fatal:", "error:"))]
    chosen = fatal[-1] if fatal else (lines[-1] if lines else "no message from git")
    return redact(chosen)


def shown_location(source: DesiredSource) -> str:
    """The location as pages show it: credentials hidden, a server path shortened to its
    last part (the full path is for admins, in the source's settings)."""
    location = source.location.strip()
    if is_local_git_location(location):
        return "…/" + (location.rstrip("/").rsplit("/", 1)[-1] or "/")
    return redact(location)


def _explain_git_failure(source: DesiredSource, exc: GitFailed) -> str:
    """One sentence for every failure to fetch: telling "no such branch" from "connection
    refused" from "timed out" would let whoever adds a source map the server's network.
    The reason goes to the server log (credentials hidden) for the admin."""
    url = shown_location(source)
    log.warning("desired-state source %s: %s failed: %s", source.pk or redact(source.location), exc.what, exc.reason)
    branch = f" (branch {source.branch!r})" if source.branch else ""
    if exc.what.startswith(("git clone", "git fetch")):
        return (
            f"cannot fetch the Git repository {url}{branch}: the address, branch or credentials are wrong, "
            "or the host cannot be reached; the server log has the details"
        )
    return f"Git repository {url}: {exc.what} failed; the server log has the details"


# --- which Git locations non-admins may fetch (no requests into the server's own network) ---


def _git_host(location: str) -> tuple[str, str] | None:
    """(scheme, host) of a remote Git location, or None for a local one."""
    location = location.strip()
    if location.startswith(("https://", "http://", "ssh://", "git://")):
        parts = urlsplit(location)
        return parts.scheme.lower(), (parts.hostname or "")
    if _SCP_LIKE.match(location):
        return "ssh", location.split("@", 1)[1].split(":", 1)[0].strip("[]")
    return None


def _host_allowed_by_admin(host: str, addresses: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    for entry in getattr(settings, "NETPOLUI_GIT_ALLOWED_HOSTS", []):
        entry = entry.strip().lower()
        if "/" in entry:
            with contextlib.suppress(ValueError):
                network = ipaddress.ip_network(entry, strict=False)
                if addresses and all(a in network for a in addresses):
                    return True
        elif entry == host.lower():
            return True
    return False


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    found = []
    for info in infos:
        with contextlib.suppress(ValueError):
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
    return found


Addresses = list[ipaddress.IPv4Address | ipaddress.IPv6Address]


def git_remote_error(location: str, addresses: Addresses | None = None) -> str | None:
    """Why a non-admin may not fetch from `location`, or None.

    https:// only (ssh:// and user@host:path too with NETPOLUI_GIT_SSH), to a host whose
    every address is public: loopback, link-local, private and other special ranges
    are refused unless NETPOLUI_GIT_ALLOWED_HOSTS lists the host or its network.
    `addresses`: the host's addresses when already looked up (the fetch pins them)."""
    ssh = bool(getattr(settings, "NETPOLUI_GIT_SSH", False))
    found = _git_host(location)
    schemes = ("https", "ssh") if ssh else ("https",)
    if found is None or found[0] not in schemes:
        kinds = "an https:// URL, ssh:// URL or user@host:path" if ssh else "an https:// URL"
        return f"must be {kinds} (other locations are for admins)"
    host = found[1]
    if not host:
        return "has no host name"
    if addresses is None:
        addresses = _addresses(host)
    if _host_allowed_by_admin(host, addresses):
        return None
    # A name that does not resolve reaches nothing; the fetch checks again.
    if any(not a.is_global or a.is_multicast for a in addresses):
        return (
            f"host {host!r} is on a loopback, link-local or private network; "
            "an admin can allow it with NETPOLUI_GIT_ALLOWED_HOSTS"
        )
    return None


@dataclass(frozen=True)
class Pin:
    """Where a restricted fetch may connect: the addresses checked, and how git is told to
    use them (curl's `host:port:addresses` for https, ssh options for ssh)."""

    addresses: Addresses
    curl_resolve: str = ""
    ssh_options: str = ""


def _pin(location: str) -> Pin:
    """Look a remote location's host up once and tell git to connect to exactly those
    addresses: looked up again by git (or ssh), a name could lead elsewhere by then (DNS
    rebinding). A location whose host is an address needs no pin."""
    found = _git_host(location)
    if found is None or not found[1]:
        return Pin([])
    scheme, host = found
    with contextlib.suppress(ValueError):
        return Pin([ipaddress.ip_address(host)])  # an address: nothing to look up
    addresses = _addresses(host)
    if not addresses:
        raise GitFailed(f"git fetch of {redact(location)}", f"host {host!r} has no address")
    if scheme == "https":
        port = urlsplit(location.strip()).port or 443
        listed = ",".join(f"[{a}]" if a.version == 6 else str(a) for a in addresses)
        return Pin(addresses, curl_resolve=f"{host}:{port}:{listed}")
    if scheme == "ssh":
        # ssh takes one address; the host key is still checked under the name.
        return Pin(addresses, ssh_options=f"-o HostName={addresses[0]} -o HostKeyAlias={shlex.quote(host)}")
    return Pin(addresses)


def _restricted(source: DesiredSource) -> bool:
    """Sources added by non-admins fetch under git_remote_error's rules, checked again
    at every fetch (a name may resolve elsewhere by then), without redirects."""
    # Sources without a creator come from operators (the drift command, the admin site).
    creator = source.created_by if source.pk is not None else None
    return creator is not None and not has_role(creator, ADMIN)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One fetch per checkout at a time, across processes (workers, beat, the command)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkout_name(source: DesiredSource) -> str:
    """The checkout's directory under NETPOLUI_GIT_DIR: per stored source, or per
    location for a source given on the command line."""
    if source.pk:
        return f"source-{source.pk}"
    return "adhoc-" + hashlib.sha256(source.location.strip().encode()).hexdigest()[:16]


def git_checkout(source: DesiredSource) -> tuple[Path, str]:
    """Clone (first time) or fetch and reset the source's checkout; (path, commit)."""
    error = git_location_error(source.location)
    if error:
        raise SourceUnreadable(f"Git location {redact(source.location)!r} {error}")
    restricted = _restricted(source)
    pinned: Pin | None = None
    if restricted:
        try:
            pinned = _pin(source.location)
        except GitFailed as exc:
            raise SourceUnreadable(_explain_git_failure(source, exc)) from None
        if error := git_remote_error(source.location, pinned.addresses or None):
            raise SourceUnreadable(f"Git location {redact(source.location)!r} {error}")
    root = Path(settings.NETPOLUI_GIT_DIR)
    name = checkout_name(source)
    target = root / name
    location = os.path.expanduser(source.location.strip())
    with _locked(root / f"{name}.lock"):
        try:
            if not (target / ".git").is_dir():
                shutil.rmtree(target, ignore_errors=True)
                partial = root / f"{name}.partial"
                shutil.rmtree(partial, ignore_errors=True)
                branch = ["--branch", source.branch] if source.branch else []
                _run_git(
                    ["clone", "--quiet", "--no-tags", "--single-branch", "--depth", "1", *branch, "--", location, str(partial)],
                    root,
                    f"git clone of {redact(source.location)}",
                    restricted=restricted,
                    pinned=pinned,
                )
                partial.rename(target)
            else:
                _run_git(["remote", "set-url", "origin", location], target, "git remote set-url")
                _run_git(
                    ["fetch", "--quiet", "--no-tags", "--depth", "1", "origin", source.branch or "HEAD"],
                    target,
                    f"git fetch of {redact(source.location)}",
                    restricted=restricted,
                    pinned=pinned,
                )
                _run_git(["reset", "--quiet", "--hard", "FETCH_HEAD"], target, "git reset")
                _run_git(["clean", "--quiet", "-ffdx"], target, "git clean")
            revision = _run_git(["rev-parse", "HEAD"], target, "git rev-parse").strip()
        except GitFailed as exc:
            raise SourceUnreadable(_explain_git_failure(source, exc)) from None
    return target, revision


def forget_checkout(source_id: int) -> None:
    """Remove a deleted source's checkout."""
    root = Path(settings.NETPOLUI_GIT_DIR)
    shutil.rmtree(root / f"source-{source_id}", ignore_errors=True)
    with contextlib.suppress(OSError):
        (root / f"source-{source_id}.lock").unlink()
