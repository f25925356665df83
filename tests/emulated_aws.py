"""The emulated AWS the tests run against: built once per session, its data reset per test.

Building moto plus the CloudFormation stack of ``infra/resources.json`` costs 0.6 to 1.8 s on
a small machine; doing it for every test made the suite slow. So the stack is built once,
the first time a test asks for it (tests that never touch AWS never build it), and between
tests only the data goes:

- every DynamoDB item (the tables themselves stay), the records in their streams, and what
  SNS kept of published messages;
- if a test did anything else to the world (created a queue, subscribed, deleted a table,
  touched a service or region the stack does not use), or something outside the tests reset
  moto meanwhile (another ``mock_aws()``), the whole world is rebuilt before the next test.

"Anything else" is decided from the AWS calls a test made, all of which pass through
botocore (``CallObserver``): reads and item writes are cheap to undo; any other call marks
the world dirty. So a test can do what it likes to AWS, and the next one still starts
from a freshly built stack with empty tables.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from devstack.resources import create_resources

Listener = Callable[[str, str, dict[str, Any]], None]

# Calls whose effect on the world is undone by emptying the tables and SNS's message log.
ITEM_WRITES = frozenset(
    {
        ("dynamodb", "PutItem"),
        ("dynamodb", "UpdateItem"),
        ("dynamodb", "DeleteItem"),
        ("dynamodb", "BatchWriteItem"),
        ("dynamodb", "TransactWriteItems"),
        ("dynamodb", "ExecuteStatement"),
        ("sns", "Publish"),
        ("sns", "PublishBatch"),
    }
)
READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "TransactGet", "Query", "Scan")


def changes_only_data(service: str, operation: str) -> bool:
    return (service, operation) in ITEM_WRITES or operation.startswith(READ_PREFIXES)


class CallObserver:
    """One hook on botocore's ``_make_api_call``; listeners see every AWS call in order.

    Installed once, when this module is imported (by ``tests/conftest.py``), so fixtures
    that listen (``aws_calls``, the emulated world) never undo each other's patches.
    """

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self._original = BaseClient._make_api_call

    def install(self) -> None:
        original = self._original
        listeners = self.listeners

        def observed(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            for listener in tuple(listeners):
                listener(service, operation_name, api_params)
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = observed  # type: ignore[method-assign]


API_CALLS = CallObserver()
API_CALLS.install()


class EmulatedAws:
    """The stage's stack in moto, entered for each test that asks for it."""

    def __init__(self, stage: str, region: str) -> None:
        self.stage = stage
        self.region = region
        self.outputs: dict[str, str] = {}
        self.builds = 0  # how many times the stack was built; for tests of this class
        self._mock: Any = None
        self._dirty = True
        self.active = False
        self._backends: frozenset[tuple[str, str, str]] = frozenset()
        self._tables: dict[str, str] = {}
        API_CALLS.listeners.append(self._observe)

    def enter(self) -> dict[str, str]:
        """Activate moto and hand out the stack with empty tables; rebuild it if needed.

        moto stays active after the test: switching it on costs about 0.1 s (it registers
        a thousand URL patterns), so consecutive tests share one activation and
        ``suspend`` switches it off before a test that did not ask for AWS.
        """
        from moto import mock_aws

        if self._mock is None:
            self._mock = mock_aws()
        if not self.active:
            self._mock.start(reset=False)
            self.active = True
        if self._dirty or not self._intact():
            self._build()
        else:
            self._clear_data()
        return self.outputs

    def suspend(self) -> None:
        """Deactivate moto, keeping its state for the next test that asks for it."""
        if self.active:
            self.active = False
            self._mock.stop(remove_data=False)

    def mark_dirty(self) -> None:
        """Rebuild before the next test (for changes made without an AWS call)."""
        self._dirty = True

    def _observe(self, service: str, operation: str, _params: dict[str, Any]) -> None:
        if not changes_only_data(service, operation):
            # Also calls from outside a test's world (another mock_aws): the state
            # they leave behind may be moto's shared state.
            self._dirty = True

    def _build(self) -> None:
        from moto.core.base_backend import BackendDict
        from moto.core.model_instances import reset_model_data

        BackendDict.reset()
        reset_model_data()
        self._dirty = False
        self.outputs = create_resources(self.stage, region=self.region)
        self._dirty = False  # creating the stack itself is not a test's change
        self.builds += 1
        self._backends = self._instantiated_backends()
        self._tables = self._table_definitions()

    def _clear_data(self) -> None:
        for table in self._dynamodb().tables.values():
            table.items = defaultdict(dict)
            if table.stream_shard is not None:  # the orders table's stream
                table.stream_shard.items = []
        for topic in self._sns().topics.values():
            topic.sent_notifications.clear()

    def _intact(self) -> bool:
        """Is moto's state still the stack built here (nobody reset or extended it)?"""
        if self._instantiated_backends() != self._backends:
            return False
        return self._table_definitions() == self._tables

    def _table_definitions(self) -> dict[str, str]:
        """Each table's description without its item counts. (Not the Table objects: moto
        replaces them with copies when it rolls back a cancelled transaction.)"""
        definitions = {}
        for name, table in self._dynamodb().tables.items():
            described = table.describe(base_key="Table")["Table"]
            for count in ("ItemCount", "TableSizeBytes"):
                described.pop(count, None)
            definitions[name] = json.dumps(described, sort_keys=True, default=str)
        return definitions

    def _dynamodb(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _sns(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        return sns_backends[DEFAULT_ACCOUNT_ID][self.region]

    @staticmethod
    def _instantiated_backends() -> frozenset[tuple[str, str, str]]:
        from moto.core.base_backend import BackendDict

        return frozenset(
            (backends.service_name, account, region)
            for backends in BackendDict._instances
            for account, region, _ in backends.iter_backends()
        )
