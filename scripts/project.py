"""What the operator scripts share: where things are, the stages and their settings."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICE_DIR = PROJECT_DIR / ".chalice"
CONFIG_FILE = CHALICE_DIR / "config.json"
TEMPLATE_FILE = PROJECT_DIR / "infra" / "resources.json"
DEFAULT_REGION = "us-east-1"
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
    return f"{app_name()}-{stage}-resources"


def region() -> str:
    """The operator's configured region, else us-east-1 (Chalice insists on one)."""
    import boto3

    return boto3.session.Session().region_name or DEFAULT_REGION


def chalice(*args: str) -> list[str]:
    """The command line for this environment's ``chalice``."""
    beside_python = Path(sys.executable).with_name("chalice")
    executable = str(beside_python) if beside_python.exists() else shutil.which("chalice")
    if executable is None:
        raise SystemExit("chalice is not installed: run `make install` first")
    return [executable, *args]


def chalice_environment(aws_region: str) -> dict[str, str]:
    return {**os.environ, "AWS_DEFAULT_REGION": aws_region}


def stage_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stage", required=True, choices=aws_stages())
    return parser
