"""Stand-in images for the real-swarm suite (no image can be pulled on our machines).

The image mapping, the ONLY thing the suite changes in what the program declares:

  * an image whose repository is `caddy`  -> `agent-os-verify/caddy:debian`: the real Caddy
    binary from Debian's `caddy` package with its shared libraries, busybox for the health
    check's `wget`, and the official image's environment (XDG_CONFIG_HOME=/config,
    XDG_DATA_HOME=/data) and no entrypoint, so the declared args run Caddy;
  * any other image, for service S -> `agent-os-verify/standin-S:v1`, a busybox-static
    rootfs whose entrypoint `/standin/run`:
      - listens on every TCP port S is expected to serve and answers each connection with
        `HTTP/1.0 200` and the body `standin S ...` (any path);
      - with socat-style args (`TCP-LISTEN:P,... TCP:H:Q`, the admin tunnel) relays P to H:Q;
    and which carries stub executables for the non-busybox tools named by S's health
    check and by scripts mounted into S (e.g. `pg_isready`, `/opt/kafka/bin/*.sh`). A stub
    succeeds iff every `host:port` in its arguments accepts TCP, or, when it names none,
    iff all of S's own ports accept TCP. `nc -z` is provided (busybox nc lacks `-z`).
    The program S's entrypoint wrapper finally execs (e.g. `with-secrets` -> `kc.sh`)
    serves like `/standin/run` when it is the task's main process and probes otherwise
    (a health check may call the same program), so wrappers the program mounts really run.
    `/bin/sh` is Debian's dash and `/bin/bash` Debian's bash (with their libraries), as
    in the Debian/UBI-based images; busybox supplies the other tools.
    The image's USER: S's declared user when it has one (the declared user then applies
    anyway), else the owner uid:gid of S's declared secret files (the program's statement
    of which image user reads them), else root.

Ports S serves (documented rule): the target ports it publishes; ports its own health
check and args name on loopback (`127.0.0.1:N`, `127.0.0.1 N`, `/127.0.0.1/N`, `-p N`,
`port=N`); and every `S:N` that any captured input of the stack (including rendered
config files such as the Caddyfile) names. UDP ports are not served (busybox nc has no
UDP mode; nothing in the suite probes UDP).
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import shlex
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import mockrun

REPO = "agent-os-verify"
TAG = "v1"
CADDY_IMAGE = f"{REPO}/caddy:debian"
BUSYBOX = Path("/bin/busybox")
PATH = "/standin/bin:/usr/local/bin:/usr/bin:/bin"
BUILTINS = {"exit", "test", "[", "true", "false", "cd", "exec", "echo", "set", "if", "then", "fi", "!"}

RUN = r"""#!/bin/sh
# agent-os stand-in: serve declared ports (HTTP 200 on any path) or relay like socat.
trap 'exit 0' TERM INT
case "${1:-}" in
  TCP-LISTEN:*|TCP4-LISTEN:*)
    lport=${1#*:}; lport=${lport%%,*}; dst=${2#TCP*:}
    exec nc -ll -p "$lport" -e /bin/busybox nc "${dst%:*}" "${dst##*:}" ;;
esac
while read -r proto port; do
  [ "$proto" = tcp ] && nc -ll -p "$port" -e /standin/reply &
done < /standin/ports
sleep 2147483647 &
wait
"""

REPLY = r"""#!/bin/sh
read -r line
body="standin $(cat /standin/name) $line"
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s\n' \
  "$((${#body} + 1))" "$body"
"""

PROBE = r"""#!/bin/sh
# Stand-in for a tool the service's checks or scripts call: succeed iff targets accept TCP.
targets=$(printf '%s\n' "$@" | grep -oE '[A-Za-z0-9_.-]+:[0-9]{2,5}' | sort -u)
if [ -z "$targets" ]; then
  while read -r proto port; do [ "$proto" = tcp ] && targets="$targets 127.0.0.1:$port"; done < /standin/ports
fi
for t in $targets; do
  /bin/busybox nc -w 2 "${t%:*}" "${t##*:}" </dev/null >/dev/null 2>&1 || exit 1
done
exit 0
"""

# The program the service runs, when the image is replaced: serve when it is the task's
# main process (PID 1 or a child of docker-init), else (health check, exec) probe.
MAIN = r"""#!/bin/sh
if [ "$$" = 1 ] || [ "$PPID" = 1 ]; then exec /standin/run "$@"; fi
exec /standin/probe "$@"
"""

NC = r"""#!/bin/sh
if [ "${1:-}" = -z ]; then shift; exec /bin/busybox nc -w 2 "$@" </dev/null >/dev/null 2>&1; fi
exec /bin/busybox nc "$@"
"""


@dataclass(frozen=True)
class StandIn:
    service: str
    image: str
    ports: tuple[int, ...]
    stubs: tuple[str, ...]  # absolute paths of stub executables
    main: str | None = None  # path of the program the service runs (a copy of /standin/run)
    user: str = "0:0"


def is_caddy(image: str) -> bool:
    return image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0] == "caddy"


def image_for(service: str, declared: str) -> str:
    """The documented image mapping (module docstring)."""
    return CADDY_IMAGE if is_caddy(declared) else f"{REPO}/standin-{service}:{TAG}"


def applets() -> set[str]:
    """Tools the stand-in rootfs has: busybox applets and the shells."""
    out = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout
    return set(out.split()) | {"sh", "bash", "dash"}


def _strings(v: Any) -> Iterable[str]:
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def stack_texts(run: mockrun.Run) -> list[str]:
    """Every string of every captured input, plus decoded config/secret file contents."""
    texts: list[str] = []
    for r in run.resources:
        plain = r.plain
        texts += list(_strings(plain))
        if r.type in ("docker:index/serviceConfig:ServiceConfig", "docker:index/secret:Secret"):
            data = plain.get("data")
            if isinstance(data, str):
                with contextlib.suppress(ValueError):
                    texts.append(base64.b64decode(data).decode())
    return texts


_LOOPBACK = re.compile(r"(?:127\.0\.0\.1|localhost)(?::|\s+|/)(\d{2,5})\b")
_FLAG = re.compile(r"(?:^|\s)-p\s*(\d{2,5})\b|\bport=(\d{2,5})\b")


def ports_for(name: str, svc: Mapping[str, Any], texts: list[str]) -> tuple[int, ...]:
    ports: set[int] = set()
    for p in (svc.get("endpointSpec") or {}).get("ports") or []:
        if p.get("protocol", "tcp") == "tcp":
            ports.add(int(p["targetPort"]))
    cs = svc["taskSpec"]["containerSpec"]
    own = " ".join(
        list(cs.get("healthcheck", {}).get("tests", []))
        + list(cs.get("args") or [])
        + list(cs.get("commands") or [])
    )
    ports |= {int(m) for m in _LOOPBACK.findall(own)}
    ports |= {int(a or b) for a, b in _FLAG.findall(own)}
    ref = re.compile(rf"(?<![\w.-]){re.escape(name)}:(\d{{2,5}})(?![\w.])")
    for t in texts:
        ports |= {int(m) for m in ref.findall(t)}
    return tuple(sorted(p for p in ports if 0 < p < 65536))


_WORD_SPLIT = re.compile(r"\|\||&&|[;|()]")
_BIN_PATH = re.compile(r"(?<![\w.-])(/(?:[\w.-]+/)*bin/[\w.-]+)")


def stubs_for(svc: Mapping[str, Any], mounted: list[str], known: set[str]) -> tuple[str, ...]:
    """Executables the health check and mounted scripts call that busybox lacks."""
    cs = svc["taskSpec"]["containerSpec"]
    tests = list(cs.get("healthcheck", {}).get("tests", []))
    out: set[str] = set()
    commands: list[str] = []
    if tests and tests[0] == "CMD-SHELL":
        commands = [seg for seg in _WORD_SPLIT.split(" ".join(tests[1:]))]
    elif tests and tests[0] == "CMD":
        commands = [shlex.join(tests[1:2])]
    for seg in commands:
        try:
            words = shlex.split(seg)
        except ValueError:
            words = seg.split()
        words = [w for w in words if re.fullmatch(r"[\w./-]+", w) and "=" not in w]
        if not words:
            continue
        w = words[0]
        if w.startswith("/"):
            out.add(w)
        elif w not in known and w not in BUILTINS and "=" not in w:
            out.add(f"/standin/bin/{w}")
    for text in [*mounted, *list(cs.get("commands") or []), *list(cs.get("args") or [])]:
        out |= set(_BIN_PATH.findall(text))
    mounts = {c["fileName"] for c in [*(cs.get("configs") or []), *(cs.get("secrets") or [])]}
    return tuple(
        sorted(
            p for p in out - mounts if Path(p).name not in known or not p.startswith(("/bin/", "/usr/bin/"))
        )
    )


def main_program(svc: Mapping[str, Any], known: set[str]) -> str | None:
    """Where the program S finally runs must exist: the first word after a shell and its
    script (`/bin/sh /usr/local/bin/with-secrets kc.sh start` -> kc.sh), else the first
    word of commands, else of args. None when that is a busybox tool or the image's own
    entrypoint (no commands, no args, or args that are flags)."""
    cs = svc["taskSpec"]["containerSpec"]
    if not cs.get("commands"):
        return None  # args go to the image's entrypoint, which the stand-in replaces
    words = [*list(cs.get("commands") or []), *list(cs.get("args") or [])]
    if words and Path(words[0]).name in ("sh", "bash", "dash"):
        words = words[2:]
    if not words or words[0].startswith("-"):
        return None
    w = words[0]
    if Path(w).name in known and (not w.startswith("/") or w.startswith("/bin/")):
        return None
    return w if w.startswith("/") else f"/standin/bin/{w}"


def image_user(svc: Mapping[str, Any]) -> str:
    cs = svc["taskSpec"]["containerSpec"]
    if cs.get("user"):
        return str(cs["user"])
    owners = {(s.get("fileUid", "0"), s.get("fileGid", "0")) for s in cs.get("secrets") or []}
    if len(owners) == 1:
        uid, gid = owners.pop()
        return f"{uid}:{gid}"
    return "0:0"


def plan(run: mockrun.Run, services: Iterable[str] | None = None) -> list[StandIn]:
    """One stand-in per selected service (caddy runs the real binary instead)."""
    texts = stack_texts(run)
    known = applets()
    configs = {r.id: r.plain for r in run.by_type("docker:index/serviceConfig:ServiceConfig")}
    selected = set(services) if services is not None else None
    out: list[StandIn] = []
    for name, r in sorted(run.services().items()):
        if selected is not None and name not in selected:
            continue
        svc = r.plain
        cs = svc["taskSpec"]["containerSpec"]
        if is_caddy(cs["image"]):
            continue
        mounted = []
        for c in cs.get("configs") or []:
            data = configs.get(c["configId"], {}).get("data")
            if data:
                mounted.append(base64.b64decode(data).decode(errors="replace"))
        out.append(
            StandIn(
                service=name,
                image=image_for(name, cs["image"]),
                ports=ports_for(name, svc, texts),
                stubs=stubs_for(svc, mounted, known),
                main=main_program(svc, known),
                user=image_user(svc),
            )
        )
    for r in run.by_type("docker:index/container:Container"):
        c = r.plain
        out.append(StandIn(service=c["name"], image=image_for(c["name"], c["image"]), ports=(), stubs=()))
    return out


# -- rootfs -----------------------------------------------------------------------------------
def _add(
    tar: tarfile.TarFile, path: str, data: bytes | None = None, mode: int = 0o755, link: str = ""
) -> None:
    info = tarfile.TarInfo(path.lstrip("/"))
    info.mode = mode
    if link:
        info.type = tarfile.SYMTYPE
        info.linkname = link
        tar.addfile(info)
    elif data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


SHELLS = {"/bin/sh": "/bin/dash", "/bin/bash": "/bin/bash"}


def _base(tar: tarfile.TarFile, known: set[str]) -> None:
    dirs = (
        "bin",
        "etc",
        "tmp",
        "run",
        "run/secrets",
        "standin",
        "standin/bin",
        "usr",
        "usr/bin",
        "root",
        "var",
    )
    for d in (*dirs, "lib", "lib64", "lib/x86_64-linux-gnu", "usr/lib"):
        _add(tar, d, mode=0o1777 if d == "tmp" else 0o755)
    _add(tar, "bin/busybox", BUSYBOX.read_bytes())
    for a in sorted(known - {"busybox", "sh", "bash"}):
        _add(tar, f"bin/{a}", link="busybox")
    libs: set[str] = set()
    for target, source in SHELLS.items():
        _add(tar, target, Path(source).resolve().read_bytes())
        libs |= set(_libs(source))
    for lib in sorted(libs):
        _add(tar, lib, Path(lib).resolve().read_bytes())
    _add(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n", 0o644)
    _add(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    _add(tar, "etc/nsswitch.conf", b"hosts: files dns\n", 0o644)
    _add(tar, "standin/bin/nc", NC.encode())


def standin_tar(s: StandIn, known: set[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _base(tar, known)
        _add(tar, "standin/run", RUN.encode())
        _add(tar, "standin/reply", REPLY.encode())
        _add(tar, "standin/probe", PROBE.encode())
        _add(tar, "standin/name", f"{s.service}\n".encode(), 0o644)
        _add(tar, "standin/ports", "".join(f"tcp {p}\n" for p in s.ports).encode(), 0o644)
        made: set[str] = set()
        stubs: set[str] = {*s.stubs, *([s.main] if s.main else [])}
        for stub in sorted(stubs):
            parts = Path(stub).parts[1:-1]
            for i in range(len(parts)):
                d = "/".join(parts[: i + 1])
                if d not in made and d not in (
                    "bin",
                    "standin",
                    "standin/bin",
                    "usr",
                    "usr/bin",
                    "etc",
                    "tmp",
                ):
                    _add(tar, d)
                    made.add(d)
            _add(tar, stub, (MAIN if stub == s.main else PROBE).encode())
    return buf.getvalue()


def _libs(binary: str) -> list[str]:
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = re.findall(r"(/[^\s]+\.so[^\s]*)", out)
    return sorted(set(libs))


def caddy_tar(known: set[str]) -> bytes:
    binary = shutil.which("caddy")
    if binary is None:
        raise FileNotFoundError("caddy binary not found (apt-get install caddy)")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _base(tar, known)
        for d in ("etc/caddy", "data", "config"):
            _add(tar, d)
        _add(tar, "usr/bin/caddy", Path(binary).resolve().read_bytes())
        for lib in sorted(set(_libs(binary)) - set(_libs("/bin/bash")) - set(_libs("/bin/dash"))):
            _add(tar, lib, Path(lib).resolve().read_bytes(), 0o755)
    return buf.getvalue()


def build(client: Any, standins: list[StandIn]) -> list[str]:
    """Import the images into the engine (docker import); returns the image refs built."""
    known = applets()
    built: list[str] = []
    for s in standins:
        repo, tag = s.image.rsplit(":", 1)
        changes = [f"ENV PATH={PATH}", 'ENTRYPOINT ["/standin/run"]', f"USER {s.user}"]
        client.api.import_image_from_data(standin_tar(s, known), repository=repo, tag=tag, changes=changes)
        built.append(s.image)
    repo, tag = CADDY_IMAGE.rsplit(":", 1)
    client.api.import_image_from_data(
        caddy_tar(known),
        repository=repo,
        tag=tag,
        changes=[
            f"ENV PATH={PATH}",
            "ENV XDG_CONFIG_HOME=/config",
            "ENV XDG_DATA_HOME=/data",
            'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]',
        ],
    )
    built.append(CADDY_IMAGE)
    return built


__all__ = ["CADDY_IMAGE", "StandIn", "build", "image_for", "is_caddy", "plan", "ports_for", "stubs_for"]
