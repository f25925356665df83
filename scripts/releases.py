"""What a release is, and the stage's last releases (the SSM parameter ``/<app>/<stage>/releases``).

A release is what one ``make deploy`` deployed: the git commit of the checkout (app.py,
chalicelib/, requirements.txt, and .chalice/ with each stage's environment variables,
function settings and IAM policy files: the code and the configuration), plus what the
deploy took from the environment and no commit holds: the buyer-email sender
(``SENDER_IDENTITY``/``EMAIL_SENDER``). A deploy from a checkout with uncommitted changes
is recorded without a commit, because nothing could rebuild it; ``make rollback`` refuses
to return to it. ``make rollback`` rebuilds the release before the current one from its
commit (scripts/rollback.py) and records that as a release of its own.

The parameter belongs to the resources stack (infra/resources.json, like the deploy
record), holds the last :data:`KEEP` releases, newest last, and is deleted with the stage.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from scripts.project import PROJECT_DIR, app_name, sender_settings
from scripts.state import PARAMETER_TIER

KEEP = 10


@dataclass(frozen=True)
class Release:
    commit: str | None  # None: deployed with uncommitted changes (see ``note``)
    deployed_at: str
    sender: tuple[str, str] | None = None  # (SES identity, From address)
    note: str = ""  # why there is no commit; or what a rollback came from

    def describe(self) -> str:
        commit = self.commit[:12] if self.commit else "no commit"
        return f"{commit} (deployed {self.deployed_at}{'; ' + self.note if self.note else ''})"


def history_parameter(stage: str) -> str:
    return f"/{app_name()}/{stage}/releases"


def _git(project_dir: Path, *args: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(project_dir), *args], capture_output=True, text=True, check=False
    )
    return (result.stdout or "").strip() if result.returncode == 0 else None


def this_checkout(
    environ: Mapping[str, str], project_dir: Path = PROJECT_DIR, now: datetime | None = None
) -> Release:
    """The release a deploy from this checkout makes (call it before anything changes)."""
    deployed_at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sender = sender_settings(environ)
    commit = _git(project_dir, "rev-parse", "--verify", "HEAD")
    if not commit:
        return Release(None, deployed_at, sender, "not deployed from a git checkout")
    changed = _git(project_dir, "status", "--porcelain", "--untracked-files=no")
    if changed:
        return Release(None, deployed_at, sender, f"uncommitted changes on {commit[:12]}")
    return Release(commit, deployed_at, sender)


def fetch(ssm: Any, stage: str) -> list[Release]:
    """The stage's releases, oldest first; none for a stage deployed before releases were."""
    try:
        value = ssm.get_parameter(Name=history_parameter(stage))["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return []
        raise
    return [
        Release(
            entry["commit"],
            entry["deployed_at"],
            tuple(entry["sender"]) if entry.get("sender") else None,  # type: ignore[arg-type]
            entry.get("note", ""),
        )
        for entry in json.loads(value)
    ]


def record(ssm: Any, stage: str, release: Release) -> None:
    history = [*fetch(ssm, stage), release][-KEEP:]
    ssm.put_parameter(
        Name=history_parameter(stage),
        Value=json.dumps([asdict(entry) for entry in history], separators=(",", ":")),
        Type="String",
        Overwrite=True,
        Tier=PARAMETER_TIER,
    )


def materialize(commit: str, target: Path, project_dir: Path = PROJECT_DIR) -> None:
    """The commit's tracked files, written to ``target`` (``git archive``)."""
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(project_dir), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise LookupError(
            f"commit {commit} is not in this checkout ({archive.stderr.decode().strip()}); "
            "git fetch it first"
        )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
