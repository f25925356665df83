"""Create the stage's AWS resources in the emulator from the deploy template.

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


def create_resources(
    template_path: Path,
    parameters: dict[str, str],
    stack_name: str,
    region: str,
) -> dict[str, str]:
    """Create the CloudFormation stack, wait for it and return its outputs by key."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=template_path.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    # moto creates stacks synchronously, so the first poll normally succeeds; the
    # waiter still fails loudly (with the stack's status) if creation went wrong.
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
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
