"""``make rollback``'s refusals and what it says stays, against moto (the whole rollback,
with the real ``chalice deploy``, is rehearsed in test_rehearsal.py)."""

from __future__ import annotations

import copy
import json
import subprocess
from typing import Any

import boto3
import pytest

from scripts import releases
from scripts.deploy import DeployError
from scripts.project import TEMPLATE_FILE
from scripts.rollback import kept_back, rollback

REGION = "us-east-1"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


@pytest.fixture
def ssm() -> Any:
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("ssm", region_name=REGION)


def test_a_stage_with_one_release_has_nothing_to_roll_back_to(ssm):
    releases.record(ssm, "dev", releases.Release("a" * 40, "2026-12-07T04:00:00Z"))
    with pytest.raises(DeployError, match="1 recorded release"):
        rollback("dev", REGION, {}, echo=lambda _: None)


def test_a_release_deployed_from_uncommitted_changes_is_not_rolled_back_to(ssm):
    dirty = releases.Release(None, "2026-12-07T04:00:00Z", None, "uncommitted changes on abc")
    releases.record(ssm, "dev", dirty)
    releases.record(ssm, "dev", releases.Release("b" * 40, "2026-12-07T05:00:00Z"))
    with pytest.raises(DeployError, match=r"uncommitted changes on abc.*cannot be rebuilt"):
        rollback("dev", REGION, {}, echo=lambda _: None)


def test_the_history_keeps_the_last_releases_with_their_sender(ssm):
    for n in range(releases.KEEP + 2):
        sender = ("shop.example", "orders@shop.example") if n % 2 else None
        releases.record(ssm, "dev", releases.Release(f"{n:040d}", f"t{n}", sender))
    history = releases.fetch(ssm, "dev")
    assert [r.commit for r in history] == [f"{n:040d}" for n in range(2, releases.KEEP + 2)]
    assert history[-1].sender == ("shop.example", "orders@shop.example")


def test_a_release_is_the_checkouts_commit_unless_it_has_uncommitted_changes(tmp_path):
    assert releases.this_checkout({}, tmp_path).commit is None  # not a git checkout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app.py").write_text("one\n")
    subprocess.run([*GIT, "-C", str(tmp_path), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(tmp_path), "commit", "-qm", "one"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert releases.this_checkout({}, tmp_path).commit == head
    (tmp_path / "app.py").write_text("two\n")
    dirty = releases.this_checkout({}, tmp_path)
    assert dirty.commit is None and dirty.note == f"uncommitted changes on {head[:12]}"


def test_what_stays_names_the_index_differences():
    deployed = json.loads(TEMPLATE_FILE.read_text())
    release = copy.deepcopy(deployed)
    orders = release["Resources"]["OrdersTable"]["Properties"]
    dropped = orders["GlobalSecondaryIndexes"].pop()["IndexName"]  # the release predates it
    release["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"].append(
        {**orders["GlobalSecondaryIndexes"][0], "IndexName": "byOldName"}
    )
    lines = kept_back(deployed, release)
    assert lines[0].startswith("The resources stack stays as deployed")
    assert f"  OrdersTable: keeps indexes the release does not declare: ['{dropped}']" in lines
    assert any("OrdersTable: lacks indexes the release declares: ['byOldName']" in line
               for line in lines)  # fmt: skip
    assert kept_back(deployed, copy.deepcopy(deployed)) == []
