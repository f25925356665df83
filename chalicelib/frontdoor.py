"""What the Chalice command line does with this app, decided while Chalice imports ``app.py``.

Importing the app is the one hook Chalice gives before a command changes anything (it has
applied the stage's ``environment_variables`` by then). A stage is more than what Chalice
deploys (tables, topic, secrets, alarms, the stream wired to the orders table, one shared
deploy record), so per command:

- ``chalice deploy --stage S``: runs what ``make deploy STAGE=S`` runs
  (``python -m scripts.deploy``, which calls ``chalice deploy`` itself) and exits with its
  status: the same stage, the same API, from any clone.
- ``chalice package --stage S OUT``: runs ``make package STAGE=S`` into ``OUT``: one
  template with the whole stage.
- ``chalice delete --stage S``: refused before anything is deleted; ``make destroy`` is the
  path that deletes a whole stage (its data too, after asking).
- ``chalice local --stage local``: becomes ``python -m devstack`` (the embedded emulator).
- ``chalice local`` on an AWS stage (the default, ``dev``) serves against that stage's real
  tables; without AWS credentials or a region it stops at once instead of serving 500s.

Options these paths do not carry over are refused with the make target to use. The
scripts themselves run Chalice with :data:`PIPELINE_VARIABLE` set, which lets it through.
Outside the Chalice command line (Lambda, ``python -m devstack``, tests) nothing happens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

PROJECT_DIR = Path(__file__).resolve().parent.parent
PIPELINE_VARIABLE = "SHOP_CHALICE_PIPELINE"  # set by scripts/project.py:chalice_environment
LOCAL_STAGE = "local"  # the stage that only runs on this machine (devstack)
# What each delegated command carries over; any other option given is refused.
CARRIED = {"deploy": {"stage", "profile"}, "package": {"stage", "out", "profile"}}


@dataclass(frozen=True)
class Command:
    """A ``chalice`` subcommand as the user typed it."""

    name: str
    params: dict[str, Any]
    given: frozenset[str] = field(default_factory=frozenset)  # options typed, not defaulted

    @property
    def stage(self) -> str:
        return str(self.params.get("stage") or "dev")


def chalice_command() -> Command | None:
    """The Chalice CLI command importing the app; None anywhere else (Lambda, devstack,
    tests, ``chalice.test.Client``)."""
    if os.environ.get("AWS_CHALICE_CLI_MODE") != "true" or "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        return None
    import click
    from click.core import ParameterSource

    context = click.get_current_context(silent=True)
    if context is None and Path(sys.argv[0]).name == "chalice":
        # `chalice local`'s reloader imports the app in a server thread, which does not see
        # the main thread's click context: the command line is parsed again (no callback).
        from chalice.cli import cli

        args = sys.argv[1:]
        while args and args[0] in ("--debug", "--no-debug", "--project-dir"):
            args = args[2:] if args[0] == "--project-dir" else args[1:]  # the group's options
        subcommand = cli.commands.get(args[0]) if args else None
        if subcommand is not None:
            context = subcommand.make_context(args[0], args[1:], resilient_parsing=True)
    if context is None or getattr(context.command.callback, "__module__", "") != "chalice.cli":
        return None
    given = frozenset(
        name
        for name in context.params
        if context.get_parameter_source(name) is not ParameterSource.DEFAULT
    )
    return Command(str(context.command.name), dict(context.params), given)


def configures_logging(command: Command | None) -> bool:
    """The app's JSON logging is for Lambda and the local server, not the command line."""
    return command is None or command.name == "local"


def refuse(message: str) -> NoReturn:
    """One line on stderr, and the process ends with status 2 (from any thread)."""
    print(message, file=sys.stderr, flush=True)
    if threading.current_thread() is not threading.main_thread():
        # `chalice local`'s server thread (see chalice_command): SystemExit would end the
        # thread only. Chalice's reloader then exits with its own status.
        os._exit(2)
    raise SystemExit(2)


def _aws_stages() -> list[str]:
    stages = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]
    return [stage for stage in stages if stage != LOCAL_STAGE]


def _check_carried(command: Command, target: str) -> None:
    extra = sorted(command.given - CARRIED[command.name])
    if extra:
        options = ", ".join("--" + name.replace("_", "-") for name in extra)
        refuse(f"chalice {command.name}: {options} not supported here: run {target}")
    if command.stage not in _aws_stages():
        refuse(
            f"chalice {command.name}: stage {command.stage} runs only on this machine "
            f"(chalice local --stage {LOCAL_STAGE}); AWS stages: {', '.join(_aws_stages())}"
        )


def _script_environment(command: Command) -> dict[str, str]:
    """This process's environment without the stage variables Chalice just applied."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    applied = {
        **config.get("environment_variables", {}),
        **config["stages"].get(command.stage, {}).get("environment_variables", {}),
    }
    environment = {k: v for k, v in os.environ.items() if applied.get(k) != v}
    environment.pop("AWS_CHALICE_CLI_MODE", None)
    if command.params.get("profile"):
        environment["AWS_PROFILE"] = str(command.params["profile"])
    return environment


def _run_script(command: Command, *args: str) -> NoReturn:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT_DIR, env=_script_environment(command)
    )
    raise SystemExit(result.returncode)


def _deploy(command: Command) -> NoReturn:
    _check_carried(command, f"make deploy STAGE={command.stage}")
    _run_script(command, "scripts.deploy", "--stage", command.stage)


def _package(command: Command) -> NoReturn:
    _check_carried(command, f"make package STAGE={command.stage}")
    out = Path(str(command.params["out"])).resolve()  # Chalice has made the project dir cwd
    _run_script(command, "scripts.package", "--stage", command.stage, "--out", str(out))


def _delete(command: Command) -> NoReturn:
    refuse(
        f"chalice delete would remove stage {command.stage}'s functions and API but leave its "
        f"tables, topic, secrets and stacks; nothing was deleted: run make destroy "
        f"STAGE={command.stage} (the whole stage, its data too, after asking)"
    )


def _local(command: Command) -> None:
    if command.stage == LOCAL_STAGE:
        # The whole local stack: emulator, tables, topic, stream, subscriber, admin.
        host, port = str(command.params["host"]), str(command.params["port"])
        argv = [sys.executable, "-m", "devstack", "--host", host, "--port", port]
        sys.stdout.flush()
        os.execv(sys.executable, argv)
    import botocore.session

    session = botocore.session.get_session()
    missing = (
        "AWS credentials"
        if session.get_credentials() is None
        else "AWS region"
        if not session.get_config_variable("region")
        else None
    )
    if missing:
        refuse(
            f"chalice local --stage {command.stage} serves stage {command.stage}'s real AWS "
            f"tables and found no {missing}: for the local stack run chalice local --stage "
            f"{LOCAL_STAGE}"
        )


HANDLERS = {"deploy": _deploy, "package": _package, "delete": _delete, "local": _local}


def at_import() -> Command | None:
    """Called by ``app.py`` before anything else: delegate, refuse, or let Chalice go on.

    Returns the Chalice command being run (None outside the Chalice command line).
    """
    command = chalice_command()
    if command is not None and not os.environ.get(PIPELINE_VARIABLE):
        handler = HANDLERS.get(command.name)
        if handler is not None:
            handler(command)
    return command
