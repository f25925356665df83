"""What the operator scripts share: where things are, the stages and their settings."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICE_DIR = PROJECT_DIR / ".chalice"
CONFIG_FILE = CHALICE_DIR / "config.json"
TEMPLATE_FILE = PROJECT_DIR / "infra" / "resources.json"
OPERATIONS_FILE = PROJECT_DIR / "infra" / "operations.json"
LOCAL_STAGE = "local"


def load_config() -> dict[str, Any]:
    return json.loads(CONFIG_FILE.read_text())


def app_name() -> str:
    return str(load_config()["app_name"])


def aws_stages() -> list[str]:
    """The stages that run on AWS (every stage in config.json but the local one)."""
    return [stage for stage in load_config()["stages"] if stage != LOCAL_STAGE]


def stage_environment(stage: str) -> dict[str, str]:
    """The environment Chalice gives the functions of ``stage``."""
    config = load_config()
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def stack_name(stage: str) -> str:
    """The ``make deploy`` path's resources stack (tables, topic, secret, log groups, record)."""
    return f"{app_name()}-{stage}-resources"


def operations_stack_name(stage: str) -> str:
    """The ``make deploy`` path's operations stack (alarm topic, alarms, dashboard)."""
    return f"{app_name()}-{stage}-operations"


def packaged_stack_name(stage: str) -> str:
    """The stack ``make package`` tells the operator to deploy (everything in one)."""
    return f"{app_name()}-{stage}"


def api_name(stage: str) -> str:
    """The stage's REST API name: API Gateway metrics are per ``ApiName`` and ``Stage`` only,
    so each stage's API needs its own name (Chalice would call every stage's API ``app``)."""
    return f"{app_name()}-{stage}"


class MissingRegion(SystemExit):
    """No region anywhere: nothing guesses one (a stage in the wrong region is a second stage)."""


def resolve_region(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The region and where it came from: ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the
    profile's configuration; with none of them, :class:`MissingRegion` (exit 1, one line)."""
    environ = os.environ if environ is None else environ
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(variable):
            return environ[variable], variable
    import boto3

    configured = boto3.session.Session().region_name
    if configured:
        return configured, "your AWS configuration"
    raise MissingRegion(
        "No AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1 make deploy STAGE=dev) or "
        "configure one (aws configure set region eu-west-1). Nothing was done."
    )


def region() -> str:
    return resolve_region()[0]


def chalice(*args: str) -> list[str]:
    """The command line for this environment's ``chalice``."""
    beside_python = Path(sys.executable).with_name("chalice")
    executable = str(beside_python) if beside_python.exists() else shutil.which("chalice")
    if executable is None:
        raise SystemExit("chalice is not installed: run `make install` first")
    return [executable, *args]


def chalice_environment(aws_region: str) -> dict[str, str]:
    """For the scripts' own Chalice runs: the region, and the variable that tells the app's
    front door (chalicelib/frontdoor.py) that a make target is running Chalice."""
    # Imported here: importing scripts must not import chalicelib (see promote_admin).
    from chalicelib.frontdoor import PIPELINE_VARIABLE

    # Chalice reads AWS_DEFAULT_REGION only; both are set so that nothing disagrees.
    return {
        **os.environ,
        "AWS_DEFAULT_REGION": aws_region,
        "AWS_REGION": aws_region,
        PIPELINE_VARIABLE: "1",
    }


def stage_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stage", required=True, choices=aws_stages())
    return parser


# --- Buyer emails: the stage's SES sender, set at deploy/package time ---------------------

SENDER_IDENTITY_VARIABLE = "SENDER_IDENTITY"  # an SES identity: an address or a domain
EMAIL_SENDER_VARIABLE = "EMAIL_SENDER"  # the From address buyer emails use
# The functions that send email: the subscriber (buyer emails) and the API (the
# verification and password-reset links, chalicelib/account_links.py).
SENDER_FUNCTIONS = ("api_handler", "on_order_event")
SENDER_STATEMENT_SID = "BuyerEmailSenderIdentity"


class SenderError(ValueError):
    """EMAIL_SENDER and SENDER_IDENTITY do not fit together."""


def sender_settings(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(identity, sender)`` from the environment, or ``None``: buyer emails off.

    The identity defaults to the sender's address; the sender must be that address or an
    address at that domain (what SES lets an identity send as).
    """
    identity = environ.get(SENDER_IDENTITY_VARIABLE, "").strip()
    sender = environ.get(EMAIL_SENDER_VARIABLE, "").strip()
    if not identity and not sender:
        return None
    if not sender:
        raise SenderError(f"{SENDER_IDENTITY_VARIABLE} is set: set {EMAIL_SENDER_VARIABLE} too")
    identity = identity or sender
    if sender.lower() != identity.lower() and not sender.lower().endswith("@" + identity.lower()):
        raise SenderError(
            f"{EMAIL_SENDER_VARIABLE} must be {SENDER_IDENTITY_VARIABLE} itself or an address "
            "at that domain"
        )
    return identity, sender


def sender_statement(identity: str) -> dict[str, Any]:
    """``ses:SendEmail`` on that one identity (any region and account, like the files)."""
    return {
        "Sid": SENDER_STATEMENT_SID,
        "Effect": "Allow",
        "Action": ["ses:SendEmail"],
        "Resource": f"arn:aws:ses:*:*:identity/{identity}",
    }


def function_policy(stage: str, function: str, sender_identity: str | None = None) -> dict:
    """The function's generated policy file, plus the SES grant when the stage sends email."""
    policy_file = load_config()["stages"][stage]["lambda_functions"][function]["iam_policy_file"]
    policy: dict[str, Any] = json.loads((CHALICE_DIR / policy_file).read_text())
    if sender_identity and function in SENDER_FUNCTIONS:
        policy["Statement"].append(sender_statement(sender_identity))
    return policy
