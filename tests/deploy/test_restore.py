"""``make restore``: point-in-time restore into a new table, then a confirmed copy back.

Against moto, with the stage's tables from infra/resources.json. What moto cannot show:
its ``RestoreTableToPointInTime`` copies the table as it is *now* whatever the time asked
for, and is instant (on AWS: the table as of TIME, minutes to hours later); its
CloudFormation does not turn point-in-time recovery on (the test does, as the template
does on AWS). So the test restores, then changes the live table, as if those changes had
come after TIME.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from scripts import restore
from scripts.deploy import deploy_stack
from scripts.project import TEMPLATE_FILE

REGION = "us-east-1"
TABLE = "shop-dev-products"


@pytest.fixture
def dynamodb() -> Any:
    from moto import mock_aws

    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        parameters = {"Stage": "dev", "AppName": "shop", "NotificationEmail": ""}
        deploy_stack(cfn, "shop-dev-resources", TEMPLATE_FILE.read_text(), parameters,
                     echo=lambda _: None, poll_seconds=0)  # fmt: skip
        client = boto3.client("dynamodb", region_name=REGION)
        client.update_continuous_backups(
            TableName=TABLE,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        yield client


def product(key: str, name: str) -> dict[str, Any]:
    return {"productId": {"S": key}, "name": {"S": name}}


def contents(dynamodb: Any, table: str) -> dict[str, str]:
    items = dynamodb.scan(TableName=table)["Items"]
    return {item["productId"]["S"]: item["name"]["S"] for item in items}


def test_restore_shows_the_difference_and_changes_nothing_until_confirmed(dynamodb, capsys):
    key = restore._key_names(dynamodb, TABLE)
    assert key == ["productId"], "the test's items assume the products table's key"
    for item in (product("kept", "Kept"), product("changed", "Before"), product("gone", "Gone")):
        dynamodb.put_item(TableName=TABLE, Item=item)
    when = datetime.now(UTC).isoformat()  # inside the recovery window
    moment = restore.parse_time(when)
    assert restore.main(["--stage", "dev", "--table", "products", "--time", when]) == 0
    restored = f"{TABLE}-restored-{moment.strftime('%Y%m%d%H%M%S')}"
    # Written after TIME (see the module's docstring): a change, a deletion, a new item.
    dynamodb.put_item(TableName=TABLE, Item=product("changed", "After"))
    dynamodb.delete_item(TableName=TABLE, Key={"productId": {"S": "gone"}})
    dynamodb.put_item(TableName=TABLE, Item=product("new", "New"))
    live_before = contents(dynamodb, TABLE)

    assert restore.main(["--stage", "dev", "--table", "products", "--from", restored]) == 0
    out = capsys.readouterr().out
    assert "Copying back writes 2 items of shop-dev-products as they were and deletes 1" in out
    assert f"FROM={restored} CONFIRM=1" in out
    assert contents(dynamodb, TABLE) == live_before  # unconfirmed: nothing changed

    args = ["--stage", "dev", "--table", "products", "--from", restored, "--yes"]
    assert restore.main(args) == 0
    assert contents(dynamodb, TABLE) == {"kept": "Kept", "changed": "Before", "gone": "Gone"}
    (backup,) = dynamodb.list_backups(TableName=TABLE)["BackupSummaries"]
    assert backup["BackupName"].startswith(f"{TABLE}-before-restore-")
    assert "delete-table --table-name " + restored in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "carts", "--time", "2026-12-07T04:00:00Z"], "TABLE must be one of"),
        (["--table", "products", "--time", "yesterday"], "is not ISO 8601"),
        (["--table", "products", "--time", "2026-12-07T04:00:00"], "has no time zone"),
        (["--table", "products"], "give TIME (to restore) or FROM"),
        (["--table", "products", "--time", "2020-01-01T00:00:00Z"], "can be restored from"),
        (["--table", "users", "--time", "2026-12-07T04:00:00Z"], "point-in-time recovery is off"),
    ],
)
def test_a_restore_that_cannot_be_done_says_why_and_changes_nothing(
    dynamodb, capsys, args, message
):
    assert restore.main(["--stage", "dev", *args]) == 1
    assert message in capsys.readouterr().err
    tables = dynamodb.list_tables()["TableNames"]
    assert sorted(tables) == ["shop-dev-orders", "shop-dev-products", "shop-dev-users"]
