"""Create the stage's AWS resources in the emulator from the deploy template.

The one way this repository builds its emulated stack: the local stack (``make run``)
and the test suite (``tests/emulated_aws.py``) both call ``create_resources``; other
builders (the deploy tests, the benchmark) can switch to it without change.

Using ``infra/resources.json`` itself, rather than a local copy of table definitions,
is the point: what runs on the laptop is what gets deployed. moto ignores TTL and
point-in-time recovery and skips ``AWS::SecretsManager::Secret``; the local stack
generates the token secret instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3

logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"
DEFAULT_APP_NAME = "shop"
DEFAULT_REGION = "us-east-1"


def stack_name_for(stage: str, app_name: str = DEFAULT_APP_NAME) -> str:
    """The resources stack's name, as ``make deploy`` names it."""
    return f"{app_name}-{stage}-resources"


def create_resources(
    stage: str,
    *,
    app_name: str = DEFAULT_APP_NAME,
    notification_email: str = "",
    region: str = DEFAULT_REGION,
    stack_name: str | None = None,
    template_path: Path = TEMPLATE,
) -> dict[str, str]:
    """Create the stage's resources stack, wait for it and return its outputs by key.

    Must run with an emulator in reach: inside ``moto.mock_aws()`` or with
    ``AWS_ENDPOINT_URL`` pointing at a moto server.
    """
    cloudformation = boto3.client("cloudformation", region_name=region)
    name = stack_name or stack_name_for(stage, app_name)
    parameters = {"Stage": stage, "AppName": app_name, "NotificationEmail": notification_email}
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=template_path.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    # moto creates stacks synchronously, so the first poll normally succeeds; the
    # waiter still fails loudly (with the stack's status) if creation went wrong.
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def subscribe_http(topic_arn: str, endpoint: str, region: str) -> str:
    """Subscribe an HTTP endpoint to a topic and return the subscription ARN.

    moto confirms HTTP subscriptions at once (no SubscriptionConfirmation is sent).
    """
    sns = boto3.client("sns", region_name=region)
    response = sns.subscribe(
        TopicArn=topic_arn, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True
    )
    return str(response["SubscriptionArn"])
