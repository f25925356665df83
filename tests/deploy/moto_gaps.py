"""The three places where moto 5.2 cannot take what AWS takes, bridged for the rehearsal.

Pinned: :func:`bridged` refuses any other moto version, so an upgrade makes someone look
again (and, ideally, delete this file).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import moto
from moto.apigateway.models import APIGatewayBackend
from moto.awslambda.responses import LambdaResponse
from moto.cloudformation import parsing
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel

MOTO_VERSION = "5.2.5"


def as_openapi3(document: dict[str, Any]) -> dict[str, Any]:
    """Chalice's Swagger 2.0 document, in the form moto 5.2 imports.

    API Gateway imports Swagger 2.0 and OpenAPI 3. moto 5.2's ``import_rest_api`` and
    ``put_rest_api`` refuse any document with a ``swagger`` key (only OpenAPI 3 is
    implemented) and read ``info.description`` unconditionally (a KeyError when it is
    absent, as in Chalice's). The paths, methods and ``x-amazon-apigateway-integration``
    entries moto reads are the same in both versions, so relabelling the document and
    adding an empty description is enough; nothing else is changed.
    """
    converted = dict(document)
    if converted.pop("swagger", None) is not None:
        converted["openapi"] = "3.0.1"
    converted["info"] = {"description": "", **converted.get("info", {})}
    return converted


def get_layer_version_by_arn(self: Any) -> str:
    """Lambda's ``GetLayerVersionByArn``, which moto 5.2's server does not implement ("action
    has not been implemented", a 500) and ``chalice deploy`` calls before it publishes the
    ``automatic_layer``. Answered from moto's own layer store, 404 as AWS when unknown."""
    arn = self.querystring["Arn"][0]
    layer_name, version = arn.split(":")[-2:]  # arn:aws:lambda:<region>:<account>:layer:<n>:<v>
    return json.dumps(self.backend.get_layer_version(layer_name, version).get_layer_version())


def _template_alarm_model() -> type[CloudFormationModel]:
    """A resource type moto's CloudFormation knows while the class is alive (moto lists
    ``CloudFormationModel.__subclasses__()``), so it is made inside :func:`bridged` only."""

    class TemplateAlarm(CloudFormationModel):
        """``AWS::CloudWatch::Alarm`` for moto's CloudFormation, which has no such resource
        (it logs "not supported" and creates nothing). The template's properties, after moto
        resolved their intrinsic functions, go to moto's own ``PutMetricAlarm``, which checks
        them as the API would; deleting the stack deletes the alarm."""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Any:
            from moto.cloudwatch.models import MetricDataQuery

            properties = cloudformation_json["Properties"]
            queries = [
                MetricDataQuery(
                    query_id=query["Id"],
                    label=query.get("Label", ""),
                    period=query.get("MetricStat", {}).get("Period"),
                    return_data=query.get("ReturnData"),
                    expression=query.get("Expression"),
                    metric_stat=query.get("MetricStat"),
                )
                for query in properties.get("Metrics", [])
            ]
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=properties.get("AlarmName", resource_name),
                namespace=properties.get("Namespace"),
                metric_name=properties.get("MetricName"),
                comparison_operator=properties["ComparisonOperator"],
                evaluation_periods=int(properties["EvaluationPeriods"]),
                period=properties.get("Period"),
                threshold=float(properties["Threshold"]),
                statistic=properties.get("Statistic"),
                description=properties.get("AlarmDescription"),
                dimensions=properties.get("Dimensions", []),
                alarm_actions=properties.get("AlarmActions", []),
                metric_data_queries=queries or None,
                datapoints_to_alarm=properties.get("DatapointsToAlarm"),
                extended_statistic=properties.get("ExtendedStatistic"),
                ok_actions=properties.get("OKActions", []),
                actions_enabled=properties.get("ActionsEnabled", True),
                treat_missing_data=properties.get("TreatMissingData"),
                evaluate_low_sample_count_percentile=properties.get(
                    "EvaluateLowSampleCountPercentile"
                ),
            )
            alarm.physical_resource_id = alarm.name
            alarm.is_created = lambda: True  # what moto asks of a CloudFormationModel
            return alarm

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    return TemplateAlarm


def _clear_model_caches() -> None:
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


@contextmanager
def bridged() -> Iterator[None]:
    """moto with the gaps bridged, for the duration of the block (which may nest)."""
    assert moto.__version__ == MOTO_VERSION, (
        f"moto {moto.__version__}: check whether tests/deploy/moto_gaps.py is still needed"
    )
    import_rest_api = APIGatewayBackend.import_rest_api
    put_rest_api = APIGatewayBackend.put_rest_api

    def importing(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        return import_rest_api(self, as_openapi3(api_doc), fail_on_warnings)

    def putting(self: Any, function_id: str, api_doc: dict[str, Any], *args: Any, **kw: Any) -> Any:
        return put_rest_api(self, function_id, as_openapi3(api_doc), *args, **kw)

    APIGatewayBackend.import_rest_api = importing  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = putting  # type: ignore[method-assign]
    layer_lookup = LambdaResponse.__dict__.get("get_layer_version_by_arn")  # when nested
    LambdaResponse.get_layer_version_by_arn = get_layer_version_by_arn  # type: ignore[attr-defined]
    alarm_model = _template_alarm_model()
    _clear_model_caches()  # moto caches the list of resource types it knows
    try:
        yield
    finally:
        APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]
        APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]
        if layer_lookup is None:
            del LambdaResponse.get_layer_version_by_arn  # type: ignore[attr-defined]
        else:
            LambdaResponse.get_layer_version_by_arn = layer_lookup  # type: ignore[attr-defined]
        del alarm_model
        gc.collect()  # drops the class from CloudFormationModel.__subclasses__()
        _clear_model_caches()
