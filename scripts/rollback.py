"""``make rollback STAGE=dev``: the release before the current one, deployed again.

A release (scripts/releases.py) is a commit plus the sender the deploy was given. Rolling
back rebuilds the previous release from its commit (``git archive`` into a temporary
directory, so this checkout is left alone) and runs ``chalice deploy`` there with the
stage's shared deploy record: the same functions, API, roles and subscriptions get that
release's code, environment variables, function settings and IAM policies. The API is
then named and throttled as ``make deploy`` does, and the rollback is recorded as a
release of its own (so ``make rollback`` again returns to the release rolled back from).

What a rollback does not roll back, and says so before it starts:

- the resources stack (tables and their indexes, topic, secrets): data lives there, and
  DynamoDB adds an index over minutes to hours; the older code runs against the newer
  tables. An index the older code needs and the newer release dropped must be added back
  by deploying a template that has it (``make deploy`` from a commit that declares it);
- the operations stack (alarms and dashboard);
- data: rows ``make migrate`` rewrote, items written in a newer shape, revoked tokens.
  Restore data with ``make restore`` (docs/operations.md).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts import releases, state
from scripts.deploy import (
    STREAM_ARN_OUTPUT,
    DeployError,
    Echo,
    chalice_deploy,
    configure_api,
    deployed_template,
    sender_for_chalice,
    stack_outputs,
    writes_access_logs,
)
from scripts.project import (
    CHALICE_DIR,
    operations_stack_name,
    resolve_region,
    stack_name,
    stage_parser,
)


def _indexes(template: dict[str, Any]) -> dict[str, list[str]]:
    tables = {
        name: resource.get("Properties", {}).get("GlobalSecondaryIndexes", [])
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }
    return {
        name: sorted(i["IndexName"] for i in declared) if isinstance(declared, list) else []
        for name, declared in tables.items()
    }


def kept_back(deployed: dict[str, Any] | None, release_template: dict[str, Any]) -> list[str]:
    """What of the resources stack differs from the release's, and stays as deployed."""
    if deployed is None or deployed == release_template:
        return []
    lines = ["The resources stack stays as deployed (tables, indexes, topic, secrets):"]
    now, then = _indexes(deployed), _indexes(release_template)
    for table in sorted(set(now) | set(then)):
        added = sorted(set(now.get(table, [])) - set(then.get(table, [])))
        dropped = sorted(set(then.get(table, [])) - set(now.get(table, [])))
        if added:
            lines.append(f"  {table}: keeps indexes the release does not declare: {added}")
        if dropped:
            lines.append(
                f"  {table}: lacks indexes the release declares: {dropped}. If its code "
                "queries them, add them back (make deploy from a commit that declares them)."
            )
    if len(lines) == 1:
        lines.append("  (it differs from the release's template in other ways; see the diff)")
    return lines


def rollback(stage: str, aws_region: str, environ: Mapping[str, str], echo: Echo = print) -> str:
    """Deploy the previous release's code and configuration; the API URL."""
    import boto3

    session = boto3.session.Session()
    cfn = session.client("cloudformation", region_name=aws_region)
    ssm = session.client("ssm", region_name=aws_region)
    apigateway = session.client("apigateway", region_name=aws_region)
    history = releases.fetch(ssm, stage)
    if len(history) < 2:
        raise DeployError(
            f"stage {stage} has {len(history)} recorded release(s); nothing to roll back to"
        )
    current, target = history[-1], history[-2]
    if target.commit is None:
        raise DeployError(
            f"the previous release, {target.describe()}, cannot be rebuilt. Nothing was "
            "changed. Check out the code you want and run make deploy."
        )
    echo(f"Rolling back stage {stage}: from {current.describe()} to {target.describe()}")
    record = state.fetch_record(ssm, stage)
    if record is None:
        raise DeployError(f"stage {stage} has no deploy record; nothing to roll back")
    stream_arn = stack_outputs(cfn, stack_name(stage)).get(STREAM_ARN_OUTPUT)
    if not stream_arn:
        raise DeployError(f"stack {stack_name(stage)} has no {STREAM_ARN_OUTPUT} output")
    with tempfile.TemporaryDirectory(prefix="rollback-") as scratch:
        tree = Path(scratch) / "release"
        try:
            releases.materialize(target.commit, tree)
        except LookupError as exc:
            raise DeployError(f"{exc}; nothing was changed") from exc
        release_template = json.loads((tree / "infra" / "resources.json").read_text())
        for line in kept_back(deployed_template(cfn, stack_name(stage)), release_template):
            echo(line)
        chalice_dir = tree / ".chalice"
        if (CHALICE_DIR / "deployments").is_dir():  # Chalice's build cache: saves a download
            shutil.copytree(CHALICE_DIR / "deployments", chalice_dir / "deployments")
        state.write_local_record(stage, record, chalice_dir)
        echo(f"Deploying commit {target.commit[:12]} (stage {stage}, region {aws_region}) ...")
        try:
            with sender_for_chalice(stage, target.sender, chalice_dir):
                chalice_deploy(stage, aws_region, stream_arn, cwd=tree)
        finally:
            deployed = state.read_local_record(stage, chalice_dir)
            if deployed is not None:
                state.save_record(ssm, stage, deployed)
                record = deployed
    rest_apis = [r for r in record["resources"] if r["resource_type"] == "rest_api"]
    if not rest_apis:
        raise DeployError("chalice deploy recorded no REST API; nothing to configure")
    operations = operations_stack_name(stage)
    access_log_arn = (
        stack_outputs(cfn, operations).get("ApiAccessLogGroupArn")
        if writes_access_logs(stage)
        else None
    )
    configure_api(apigateway, rest_apis[0]["rest_api_id"], stage, access_log_arn, echo)
    rolled_back = dataclasses.replace(
        target,
        deployed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        note=f"rollback from {current.commit[:12] if current.commit else current.describe()}",
    )
    releases.record(ssm, stage, rolled_back)
    echo(f"Stage {stage} runs {rolled_back.describe()}.")
    return str(rest_apis[0]["rest_api_url"])


def main(argv: list[str] | None = None) -> int:
    args = stage_parser("Deploy the stage's previous release again.").parse_args(argv)
    try:
        aws_region, source = resolve_region()
        print(f"Region: {aws_region} (from {source})")
        url = rollback(args.stage, aws_region, os.environ)
    except (DeployError, BotoCoreError, ClientError) as exc:
        print(f"Rollback failed: {exc}", file=sys.stderr)
        return 1
    print(f"API URL: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
