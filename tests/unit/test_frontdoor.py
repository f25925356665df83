"""chalicelib/frontdoor.py: what each Chalice command does with this app, decided at import.

The commands themselves run end to end in tests/deploy/test_rehearsal.py (deploy, delete),
tests/deploy/conftest.py (package) and tests/e2e/test_chalice_local_e2e.py (local).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.cli import cli

from chalicelib import frontdoor


@pytest.fixture
def cli_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CHALICE_CLI_MODE", "true")  # what `chalice` sets for every command
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv(frontdoor.PIPELINE_VARIABLE, raising=False)


@contextlib.contextmanager
def typed(*argv: str) -> Iterator[None]:
    """Chalice's click context for ``chalice <argv>``, as while its command runs."""
    with cli.commands[argv[0]].make_context(argv[0], list(argv[1:])):
        yield


def command_for(*argv: str) -> frontdoor.Command | None:
    with typed(*argv):
        return frontdoor.chalice_command()


def at_import(*argv: str) -> frontdoor.Command | None:
    with typed(*argv):
        return frontdoor.at_import()


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        at_import(*argv)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    return err.strip()


def test_outside_the_chalice_command_line_nothing_is_decided(monkeypatch, cli_mode):
    assert frontdoor.at_import() is None  # no click context: chalice.test.Client, devstack
    assert frontdoor.configures_logging(None)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-dev")
    assert command_for("package", "out") is None
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    monkeypatch.delenv("AWS_CHALICE_CLI_MODE")
    assert command_for("package", "out") is None


def test_the_command_its_stage_and_the_options_typed(cli_mode):
    command = command_for("package", "--stage", "prod", "out")
    assert command is not None
    assert (command.name, command.stage, command.params["out"]) == ("package", "prod", "out")
    assert command.given == {"stage", "out"}
    defaulted = command_for("deploy")
    assert defaulted is not None and (defaulted.stage, defaulted.given) == ("dev", frozenset())


def test_the_reloaders_server_thread_reads_the_command_line(monkeypatch, cli_mode):
    # `chalice local` imports the app in a thread that cannot see the click context.
    argv = ["/venv/bin/chalice", "--project-dir", ".", "--debug", "local", "--stage", "local"]
    monkeypatch.setattr(sys, "argv", argv)
    command = frontdoor.chalice_command()
    assert command is not None and (command.name, command.stage) == ("local", "local")
    monkeypatch.setattr(sys, "argv", ["pytest", "local"])
    assert frontdoor.chalice_command() is None


def test_logging_is_configured_for_the_local_server_only(cli_mode):
    assert frontdoor.configures_logging(command_for("local"))
    for argv in (("package", "out"), ("deploy",), ("delete",), ("url",)):
        assert not frontdoor.configures_logging(command_for(*argv)), argv


def test_delete_is_refused(cli_mode, capsys):
    assert refusal(capsys, "delete", "--stage", "prod") == (
        "chalice delete would remove stage prod's functions and API but leave its tables, "
        "topic, secrets and stacks; nothing was deleted: run make destroy STAGE=prod (the "
        "whole stage, its data too, after asking)"
    )


def test_options_the_pipeline_does_not_carry_are_refused(cli_mode, capsys):
    assert refusal(capsys, "deploy", "--stage", "dev", "--connection-timeout", "5") == (
        "chalice deploy: --connection-timeout not supported here: run make deploy STAGE=dev"
    )
    assert refusal(capsys, "package", "--merge-template", "x.json", "out") == (
        "chalice package: --merge-template not supported here: run make package STAGE=dev"
    )
    assert refusal(capsys, "deploy", "--stage", "local").startswith(
        "chalice deploy: stage local runs only on this machine (chalice local --stage local)"
    )


@pytest.fixture
def scripts_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        runs.append({"argv": argv, **kwargs})
        return subprocess.CompletedProcess(argv, 3)

    monkeypatch.setattr(frontdoor.subprocess, "run", run)
    return runs


def test_deploy_and_package_run_the_make_targets_pipeline(monkeypatch, cli_mode, scripts_run):
    monkeypatch.setenv("USERS_TABLE", "shop-dev-users")  # as Chalice applied it for the stage
    monkeypatch.setenv("SHELL_VARIABLE", "kept")
    with pytest.raises(SystemExit) as exited:
        at_import("deploy", "--stage", "dev", "--profile", "ops")
    assert exited.value.code == 3  # the script's status
    with pytest.raises(SystemExit):
        at_import("package", "--stage", "prod", "out/prod")
    deploy, package = scripts_run
    assert deploy["argv"] == [sys.executable, "-m", "scripts.deploy", "--stage", "dev"]
    assert deploy["cwd"] == frontdoor.PROJECT_DIR
    assert "USERS_TABLE" not in deploy["env"] and deploy["env"]["SHELL_VARIABLE"] == "kept"
    assert deploy["env"]["AWS_PROFILE"] == "ops"
    assert package["argv"][:-1] == [
        sys.executable, "-m", "scripts.package", "--stage", "prod", "--out",
    ]  # fmt: skip
    assert package["argv"][-1].endswith("/out/prod")  # resolved where Chalice runs


def test_the_scripts_own_chalice_runs_go_through(monkeypatch, cli_mode, scripts_run):
    monkeypatch.setenv(frontdoor.PIPELINE_VARIABLE, "1")
    command = at_import("deploy", "--stage", "dev")
    assert command is not None and command.name == "deploy"
    assert scripts_run == []


def test_local_on_an_aws_stage_without_credentials_stops_at_once(monkeypatch, cli_mode, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert refusal(capsys, "local", "--stage", "dev") == (
        "chalice local --stage dev serves stage dev's real AWS tables and found no AWS "
        "credentials: for the local stack run chalice local --stage local"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert refusal(capsys, "local") == (
        "chalice local --stage dev serves stage dev's real AWS tables and found no AWS "
        "region: for the local stack run chalice local --stage local"
    )
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    command = at_import("local")
    assert command is not None and command.stage == "dev"  # serves, against stage dev


def test_local_on_the_local_stage_becomes_the_local_stack(monkeypatch, cli_mode):
    exec_calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(frontdoor.os, "execv", lambda path, argv: exec_calls.append((path, argv)))
    at_import("local", "--stage", "local", "--port", "8123")
    assert exec_calls == [
        (
            sys.executable,
            [sys.executable, "-m", "devstack", "--host", "127.0.0.1", "--port", "8123"],
        )
    ]
