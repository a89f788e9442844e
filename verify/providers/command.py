"""command: `command:local:Command`, run for real on this machine as pulumi-command 1.2.1 runs it.

Upstream (github.com/pulumi/pulumi-command v1.2.1, provider/pkg/provider/local/
commandController.go and commandOutputs.go, on pulumi-go-provider v1.3.0's `infer`):

* Create runs `create` (nothing when unset; stdout and stderr are then ""). Update runs
  `update`, or `create` when `update` is unset, or nothing when both are. Delete runs the
  state's `delete` with the state's inputs. Preview runs nothing.
* `interpreter` (default `/bin/sh -c`) gets the command as its last argument; the process
  starts in `dir`, else the plugin's working folder (the engine starts plugins in the
  project folder), with the plugin's environment plus `environment`. Unless
  `addPreviousOutputInEnv` is false, the previous run's non-empty stdout and stderr are
  added as PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR (so update and delete see the
  last create's or update's output). `stdin`, when non-empty, is the process's input.
* Outputs: the inputs plus `stdout` and `stderr`, each without one trailing newline.
* A non-zero exit fails the step with "<exit error>: running <%q command>:\\n<stdout and
  stderr, interleaved>"; nothing is recorded for a failed create, the old state stays for
  a failed update or delete.
* Diff: old inputs against new ones, top level; a `triggers` change replaces (the schema's
  replaceOnChanges, and the SDK adds `replace_on_changes=["triggers[*]"]`), any other
  change updates. Create before delete on replacement.
* Preview: a create's stdout and stderr are unknown; an update's are unknown when an input
  the old state has differs (or an input is unknown), as infer's default dependency wiring
  marks them.
* Read returns the state as it is. Secrets: infer's default wiring marks an output secret
  only when the input of the same name is, as this framework's engine-side marking does;
  stdout is secret only by the program's `additional_secret_outputs`.

Not supported, refused loudly: `assetPaths` and `archivePaths` (the program uses neither).
Not done: the stdout/stderr lines are not streamed to the engine as status messages (the
`logging` input only ever narrows that stream, so nothing the program logs can leak), and
the id is 8 random hex digits without the resource name in front (the framework's create
gets no URN); nothing reads either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import threading
import unicodedata
from collections.abc import Mapping
from typing import IO, Any, ClassVar

from verify.providers.base import UNKNOWN, Diff, Provider, ProviderError, Resource, changed_keys

DEFAULT_INTERPRETER = ("/bin/sh", "-c")
STDOUT_ENV = "PULUMI_COMMAND_STDOUT"
STDERR_ENV = "PULUMI_COMMAND_STDERR"
# CommandInputs (common.ResourceInputs + local.BaseInputs): what infer wires to the outputs.
INPUTS = (
    "triggers",
    "create",
    "update",
    "delete",
    "stdin",
    "logging",
    "interpreter",
    "dir",
    "environment",
    "assetPaths",
    "archivePaths",
    "addPreviousOutputInEnv",
)
UNSUPPORTED = ("assetPaths", "archivePaths")
_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """Go's strconv.Quote (the %q of the upstream's error message)."""
    out: list[str] = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch == " " or (ch.isprintable() and unicodedata.category(ch) != "Zs"):
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _pump(stream: IO[bytes], own: list[bytes], both: list[bytes], lock: threading.Lock) -> None:
    while chunk := os.read(stream.fileno(), 65536):
        own.append(chunk)
        with lock:
            both.append(chunk)


def _feed(stream: IO[bytes], data: bytes) -> None:
    # A command that does not read all of its input is no failure (nor is it for Go's exec).
    with contextlib.suppress(BrokenPipeError):
        stream.write(data)
    with contextlib.suppress(BrokenPipeError):
        stream.close()


def _exit_error(code: int) -> str:
    """Go's *exec.ExitError text."""
    return f"signal: {_signal_name(-code)}" if code < 0 else f"exit status {code}"


def _signal_name(num: int) -> str:
    names = {
        1: "hangup",
        2: "interrupt",
        3: "quit",
        6: "aborted",
        9: "killed",
        13: "broken pipe",
        15: "terminated",
    }
    return names.get(num, f"signal {num}")


def _start_error(e: OSError, argv: list[str], cwd: str) -> str:
    reason = (e.strerror or str(e)).lower()
    if not os.path.isdir(cwd):
        return f"chdir {cwd}: {reason}"
    return f"fork/exec {argv[0]}: {reason}"


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", errors="replace")


def run(command: str, inputs: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, str]:
    """Run `command` as the upstream's `run` does; the new stdout and stderr."""
    argv = [*(inputs.get("interpreter") or DEFAULT_INTERPRETER), command]
    cwd = inputs.get("dir") or os.getcwd()
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (inputs.get("environment") or {}).items()})
    if inputs.get("addPreviousOutputInEnv") is not False:
        if previous.get("stdout"):
            env[STDOUT_ENV] = str(previous["stdout"])
        if previous.get("stderr"):
            env[STDERR_ENV] = str(previous["stderr"])
    stdin = str(inputs.get("stdin") or "")
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as e:
        raise ProviderError(f"{_start_error(e, argv, cwd)}: running {go_quote(command)}:\n") from None
    out: list[bytes] = []
    err: list[bytes] = []
    both: list[bytes] = []
    lock = threading.Lock()
    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, out, both, lock), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err, both, lock), daemon=True),
    ]
    if stdin:
        assert proc.stdin is not None
        threads.append(threading.Thread(target=_feed, args=(proc.stdin, stdin.encode()), daemon=True))
    for t in threads:
        t.start()
    code = proc.wait()
    for t in threads:
        t.join()
    if code != 0:
        raise ProviderError(f"{_exit_error(code)}: running {go_quote(command)}:\n{_text(both)}")
    return {"stdout": _text(out).removesuffix("\n"), "stderr": _text(err).removesuffix("\n")}


def outputs_unknown(state: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """infer's markComputed for an update preview: every output depends on every input; it is
    unknown when an input is unknown, or differs from the old state's value of it."""
    for key in INPUTS:
        if news.get(key) == UNKNOWN:
            return True
        if key in state and state[key] != news.get(key):
            return True
    return False


class Command(Resource):
    type_token = "command:local:Command"
    replace_on: ClassVar[frozenset[str]] = frozenset({"triggers"})

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        used = [k for k in UNSUPPORTED if news.get(k) is not None]
        if used:
            raise ProviderError(
                f"command:local:Command: {', '.join(used)} not supported by this provider "
                "(verify/providers/command.py)"
            )
        return news

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        # infer drops the engine's `version` and `__`-prefixed inputs; a null is no value.
        def present(d: Mapping[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in d.items() if v is not None and k != "version" and not k.startswith("__")}

        keys = changed_keys(present(old_inputs), present(news))
        return Diff(updates=keys, replaces=[k for k in keys if k in self.replace_on])

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        id_ = secrets.token_hex(4)
        if preview:
            return id_, {**inputs, "stdout": UNKNOWN, "stderr": UNKNOWN}
        outs = {"stdout": "", "stderr": ""}
        if inputs.get("create") is not None:
            outs = run(str(inputs["create"]), inputs, outs)
        return id_, {**inputs, **outs}

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        outs = {"stdout": state.get("stdout", ""), "stderr": state.get("stderr", "")}
        if preview:
            if outputs_unknown(state, news):
                outs = {"stdout": UNKNOWN, "stderr": UNKNOWN}
            return {**news, **outs}
        command = news.get("update") if news.get("update") is not None else news.get("create")
        if command is None:
            return {**news, **outs}
        return {**news, **run(str(command), news, outs)}

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        if state.get("delete") is not None:
            run(str(state["delete"]), state, state)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return state, inputs


class CommandProvider(Provider):
    package = "command"
    resource_types = (Command,)


PROVIDER = CommandProvider
