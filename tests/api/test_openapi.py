"""The OpenAPI document: served as built, valid 3.1, complete, and true to what the app answers.

``Contract`` is the conformance check the fuzz tests (``test_fuzz.py``) use too: given an
operation, a status and a body, it says whether the document declares that answer.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import re
import shutil
import subprocess
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app import OPERATIONS
from chalicelib import account_links, openapi, schemas, subscriber, validation
from chalicelib.schemas import MAX_ADDRESSES
from tests.factories import ADDRESS, give_default_address

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_DOCUMENT_URI = "urn:shop:openapi"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _format_checker() -> FormatChecker:
    """RFC 3339 ``date-time`` (jsonschema only checks it when an optional package is present)."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        datetime.fromisoformat(value)
        return True

    return checker


def _closed(node: Any) -> Any:
    """Close every object schema that lists its properties: an undeclared field is a violation.

    Responses must not carry fields the document does not name (a leaked ``passwordHash``
    or ``tokenVersion`` would otherwise conform). Request schemas are closed already.
    """
    if isinstance(node, dict):
        for value in node.values():
            _closed(value)
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
    elif isinstance(node, list):
        for value in node:
            _closed(value)
    return node


class Contract:
    """What an OpenAPI 3.1 document promises about each operation's answers."""

    def __init__(self, document: dict[str, Any], strict: bool = True) -> None:
        self.document = document
        checked = _closed(copy.deepcopy(document)) if strict else document
        resource = Resource(contents=checked, specification=DRAFT202012)
        self._registry = Registry().with_resource(_DOCUMENT_URI, resource)
        self._format_checker = _format_checker()
        self._validators: dict[str, Draft202012Validator] = {}
        self._templates = sorted(
            document["paths"],
            # Literal segments win over parameters, as in API Gateway ("/users/register").
            key=lambda t: [s.startswith("{") for s in t.split("/")],
        )

    def operations(self) -> list[tuple[str, str]]:
        """Every (METHOD, path template) the document declares."""
        return [
            (method.upper(), template)
            for template, item in self.document["paths"].items()
            for method in item
            if method in HTTP_METHODS
        ]

    def operation(self, method: str, template: str) -> dict[str, Any]:
        """The operation, its shared parameters and responses (``$ref``) read in place."""
        operation = dict(self.document["paths"][template][method.lower()])
        if "parameters" in operation:
            operation["parameters"] = [
                schemas.resolved(self.component(p)) for p in operation["parameters"]
            ]
        operation["responses"] = {
            status: self.component(response) for status, response in operation["responses"].items()
        }
        return operation

    def component(self, node: dict[str, Any]) -> dict[str, Any]:
        """``node``, or the component its ``$ref`` names."""
        target = node.get("$ref")
        if target is None:
            return node
        kind, name = target.removeprefix("#/components/").split("/")
        return self.document["components"][kind][name]

    def _response_pointer(self, method: str, template: str, status: int) -> str:
        response = self.document["paths"][template][method.lower()]["responses"][str(status)]
        target = response.get("$ref")
        if target is not None:
            return target.removeprefix("#")
        return f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"

    def template_for(self, method: str, path: str) -> str | None:
        """The documented path template a concrete request path matches, if any."""
        parts = urlsplit(path).path.rstrip("/").split("/")
        for template in self._templates:
            pattern = template.split("/")
            if (
                len(pattern) == len(parts)
                and method.lower() in self.document["paths"][template]
                and all(p.startswith("{") or p == s for p, s in zip(pattern, parts, strict=True))
            ):
                return template
        return None

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{_DOCUMENT_URI}#{pointer}"},
                registry=self._registry,
                format_checker=self._format_checker,
            )
        return self._validators[pointer]

    def violations(
        self, method: str, template: str, status: int, body: Any, headers: dict | None = None
    ) -> list[str]:
        """Every way this answer breaks the document (empty when it conforms)."""
        where = f"{method.upper()} {template} -> {status}"
        try:
            responses = self.operation(method, template)["responses"]
        except KeyError:
            return [f"{where}: operation not in the document"]
        declared = responses.get(str(status))
        if declared is not None:
            declared = self.component(declared)
        if declared is None:
            return [
                f"{where}: status not declared (declared: {sorted(responses)}); body={_short(body)}"
            ]
        problems = self._header_violations(where, declared, headers or {})
        content = declared.get("content")
        if content is None:
            if body not in (None, ""):
                problems.append(f"{where}: declares no body, got {_short(body)}")
            return problems
        media = content.get("application/json")
        if media is None:
            return [*problems, f"{where}: declares {sorted(content)}, the app answers JSON"]
        content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type")
        if content_type is not None and not content_type.startswith("application/json"):
            problems.append(f"{where}: Content-Type {content_type!r}, declared application/json")
        pointer = self._response_pointer(method, template, status)
        pointer += "/content/application~1json/schema"
        for error in self._validator(pointer).iter_errors(body):
            at = "/".join(str(p) for p in error.absolute_path) or "(body)"
            problems.append(f"{where}: at {at}: {_short(error.message)}; body={_short(body)}")
        return problems

    def _header_violations(self, where: str, declared: dict, headers: dict) -> list[str]:
        """Declared response headers that are present must match their schema."""
        sent = {k.lower(): v for k, v in headers.items()}
        problems = []
        for name, header in declared.get("headers", {}).items():
            header = self.component(header)
            value = sent.get(name.lower())
            if value is None:
                if header.get("required"):
                    problems.append(f"{where}: required header {name} missing")
                continue
            for error in Draft202012Validator(header["schema"]).iter_errors(value):
                problems.append(f"{where}: header {name}: {error.message}")
        return problems

    def check(self, method: str, path: str, status: int, body: Any, headers=None) -> None:
        template = self.template_for(method, path) or path
        problems = self.violations(method, template, status, body, headers)
        assert not problems, "\n".join(problems)


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


CONTRACT = Contract(openapi.document(OPERATIONS))


def _routes() -> dict[str, dict[str, Any]]:
    from app import app

    return app.routes


def _routed_operations() -> set[tuple[str, str]]:
    """Every API operation in app.routes: not the web page's files (HTML/CSS/JS, not JSON),
    nor CORS preflights (OPTIONS, on stages with allowed origins; chalicelib.http)."""
    from app import PAGE_PATHS

    return {
        (method.upper(), path)
        for path, entries in _routes().items()
        if path not in PAGE_PATHS
        for method in entries
        if method != "OPTIONS"
    }


# --- the document itself -------------------------------------------------------------------


def test_served_document_is_the_built_one(api):
    reply = api.get("/openapi.json")
    assert reply.status == 200
    assert reply.body == openapi.document(OPERATIONS)
    CONTRACT.check("GET", "/openapi.json", reply.status, reply.body, reply.headers)


def test_the_document_is_served_as_utf8_text_without_escapes(api):
    reply = api.client.http.get("/openapi.json")  # the raw bytes, as a client reads them
    headers = {k.lower(): v for k, v in reply.headers.items()}
    assert headers["content-type"] == "application/json; charset=utf-8"
    text = reply.body.decode("utf-8")
    # Astral characters are themselves, never surrogate-pair escapes (which strict
    # validators refuse), and the text parses to the built document.
    # (a surrogate escape: a backslash-u not itself escaped, as in the description's "\\ud800")
    assert not re.search(r"(?<!\\)(\\\\)*\\u[dD][89abAB]", text)
    assert json.loads(text) == openapi.document(OPERATIONS)


def test_a_stage_serves_its_own_url_first_and_a_relative_one():
    local = openapi.document(OPERATIONS)["servers"]
    assert [s["url"] for s in local] == ["/"]
    staged = openapi.document(OPERATIONS, "https://abc.execute-api.eu-west-1.amazonaws.com/api")
    assert [s["url"] for s in staged["servers"]] == [
        "https://abc.execute-api.eu-west-1.amazonaws.com/api",
        "/",
    ]


def test_document_is_valid_openapi_3_1():
    document = openapi.document(OPERATIONS)
    assert document["openapi"].startswith("3.1.")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_document_is_plain_json():
    document = openapi.document(OPERATIONS)
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_every_route_is_documented():
    undocumented = _routed_operations() - set(CONTRACT.operations())
    assert not undocumented, f"routes in app.py missing from the document: {sorted(undocumented)}"


def test_every_documented_operation_is_routed():
    unrouted = set(CONTRACT.operations()) - _routed_operations()
    assert not unrouted, f"documented operations with no route in app.py: {sorted(unrouted)}"


def test_only_the_web_page_is_left_out_of_the_document(api):
    from app import PAGE_PATHS

    assert sorted(PAGE_PATHS) == ["/", "/web/{asset}"]
    assert not set(PAGE_PATHS) & set(CONTRACT.document["paths"])
    # They are not JSON API operations: each serves a page file, never JSON.
    for path in ("/", "/web/app.js"):
        reply = api.get(path)
        assert reply.status == 200
        content_type = {k.lower(): v for k, v in reply.headers.items()}["content-type"]
        assert content_type.startswith(("text/html", "text/javascript"))


def test_route_list_and_document_are_compared_for_real():
    # Guard the two tests above against comparing two empty sets.
    assert len(_routed_operations()) >= 16
    assert ("POST", "/orders/{orderId}/cancel") in _routed_operations()


def test_operation_ids_are_unique():
    ids = [CONTRACT.operation(m, t)["operationId"] for m, t in CONTRACT.operations()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("method,template", sorted(CONTRACT.operations()))
def test_path_parameters_match_the_template(method, template):
    declared = {
        p["name"] for p in CONTRACT.operation(method, template).get("parameters", [])
        if p["in"] == "path"
    }  # fmt: skip
    assert declared == set(re.findall(r"{(\w+)}", template))
    view_args = _routes()[template][method].view_args
    assert set(view_args) == declared


# --- patterns: portable to ECMAScript ------------------------------------------------------


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for k, v in node.items() if k != "pattern"))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


PATTERNS = sorted(_patterns(openapi.document(OPERATIONS)))
# Each pattern's verdict on these must be the same in Python and in JavaScript: BMP rules,
# an astral character (two code units to a RegExp without the u flag), a trailing newline.
SAMPLES = ["abc", "Ada", "a\u200bb", "\U0001f642", "x\U0001f642y", "a@example.com", " x ", "",
           "ab\n", "A-1_b", "\u00ad", "\U000e0041", "3.1.0"]  # fmt: skip
_NODE_CHECK = """
const {patterns, samples} = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = patterns.map((p) => {
  try {
    const plain = new RegExp(p), unicode = new RegExp(p, "u");
    return {ok: true, verdicts: samples.map((s) => plain.test(s)),
            unicode: samples.map((s) => unicode.test(s))};
  } catch (e) { return {ok: false, error: String(e).slice(0, 200)}; }
});
process.stdout.write(JSON.stringify(out));
"""


def _python_verdict(pattern: str, sample: str) -> bool:
    # ECMA-262's "$" is the end of the text; Python's "$" also matches before a final "\n".
    return re.search(re.sub(r"(?<!\\)\$$", r"\\Z", pattern), sample) is not None


def test_the_document_has_the_patterns_worth_checking():
    assert len(PATTERNS) >= 6
    assert any(len(p) > 4000 for p in PATTERNS)  # the email rule


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: f"{p[:20]}...{len(p)}")
def test_every_pattern_compiles_in_python(pattern):
    re.compile(pattern)


def test_every_pattern_compiles_and_agrees_in_ecmascript_without_the_u_flag():
    assert shutil.which("node"), "Node.js (20 or later) checks the patterns as ECMAScript"
    run = subprocess.run(
        ["node", "-e", _NODE_CHECK],
        input=json.dumps({"patterns": PATTERNS, "samples": SAMPLES}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    problems = []
    for pattern, result in zip(PATTERNS, json.loads(run.stdout), strict=True):
        if not result["ok"]:
            problems.append(f"{pattern[:60]}... does not compile: {result['error']}")
            continue
        python = [_python_verdict(pattern, sample) for sample in SAMPLES]
        for flags in ("verdicts", "unicode"):
            if result[flags] != python:
                differ = [
                    s for s, a, b in zip(SAMPLES, result[flags], python, strict=True) if a != b
                ]
                problems.append(f"{pattern[:60]}... ({flags}) disagrees with Python on {differ!r}")
    assert not problems, "\n".join(problems)


# --- error responses ----------------------------------------------------------------------


@pytest.mark.parametrize("method,template", sorted(CONTRACT.operations()))
def test_every_error_response_is_the_error_schema(method, template):
    responses = CONTRACT.operation(method, template)["responses"]
    assert "default" in responses  # any status not listed still reaches a client typed
    for status, response in responses.items():
        if status == "default" or int(status) >= 400:
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (status, schema)


def test_error_schema_requires_a_message_and_a_code():
    error = openapi.document(OPERATIONS)["components"]["schemas"]["Error"]
    assert set(error["required"]) >= {"error", "code"}


def _declared(method: str, template: str) -> set[int]:
    return {int(s) for s in CONTRACT.operation(method, template)["responses"] if s != "default"}


@pytest.mark.parametrize("method,template", sorted(CONTRACT.operations()))
def test_operations_declare_the_errors_they_can_raise(method, template):
    operation = CONTRACT.operation(method, template)
    declared = _declared(method, template)
    expected = set()
    if operation.get("security"):
        expected.add(401)
    if "requestBody" in operation:
        expected.add(400)
    if "{" in template:
        expected.add(404)
    if any(p["name"] in ("limit", "cursor") for p in operation.get("parameters", [])):
        expected.add(400)
    assert expected <= declared, f"undeclared: {sorted(expected - declared)}"


@pytest.mark.parametrize(
    "method,template",
    sorted((op.method.upper(), op.path) for op in OPERATIONS if op.access == openapi.ADMIN),
)
def test_admin_operations_declare_403(method, template):
    assert {401, 403} <= _declared(method, template)


@pytest.mark.parametrize("method,template", sorted(CONTRACT.operations()))
def test_every_route_that_can_answer_415_declares_it(method, template):
    # Chalice checks Content-Type on every route whose content_types lack */* (the
    # default is ["application/json"]), body or not: GET /products with
    # "Content-Type: text/plain" is a 415 unless the route accepts */*.
    content_types = [c.lower() for c in _routes()[template][method].content_types]
    if content_types and "*/*" not in content_types:
        assert 415 in _declared(method, template), f"route accepts only {content_types}"


# --- request schemas ------------------------------------------------------------------------


def test_request_schemas_in_the_document_are_the_validated_ones():
    components = openapi.document(OPERATIONS)["components"]["schemas"]
    for name, schema in schemas.REQUEST_SCHEMAS.items():
        assert components[name] == schema, name
    # The validator compiles these very dictionaries, not copies of its own.
    assert validation.REQUEST_SCHEMAS is schemas.REQUEST_SCHEMAS


def _validated_schema(view: Any) -> str | None:
    """The request schema a route validates its body with: its ``_body("Name")`` call."""
    names = re.findall(r'_body\("(\w+)"\)', inspect.getsource(inspect.unwrap(view)))
    assert len(names) <= 1, names
    return names[0] if names else None


def _optional(operation: dict[str, Any]) -> bool:
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.removeprefix("#/components/schemas/") in schemas.OPTIONAL_BODIES


@pytest.mark.parametrize("method,template", sorted(CONTRACT.operations()))
def test_each_route_validates_with_the_schema_the_document_declares(method, template):
    operation = CONTRACT.operation(method, template)
    documented = None
    if "requestBody" in operation:
        assert operation["requestBody"]["required"] is not _optional(operation)
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        documented = ref.removeprefix("#/components/schemas/")
        if documented in openapi.WEBHOOK_SCHEMAS:
            # Not schema-validated: the provider's signature of the raw body is checked.
            assert any(p["name"] == "Stripe-Signature" for p in operation["parameters"])
            documented = None
        else:
            assert documented in schemas.REQUEST_SCHEMAS
    assert _validated_schema(_routes()[template][method].view_function) == documented


def test_every_schema_reference_resolves():
    document = openapi.document(OPERATIONS)
    text = json.dumps(document)
    for name in set(re.findall(r'"#/components/schemas/(\w+)"', text)):
        assert name in document["components"]["schemas"], name


# --- the conformance check itself ---------------------------------------------------------


def test_contract_accepts_a_conforming_answer_and_rejects_others():
    product = {
        "productId": "p1",
        "name": "Lamp",
        "category": "general",
        "price": "12.50",
        "currency": "USD",
        "stock": 3,
        "version": 1,
        "createdAt": "2024-01-02T03:04:05.678Z",
    }
    assert CONTRACT.violations("GET", "/products/{productId}", 200, product) == []
    assert CONTRACT.violations("GET", "/products/{productId}", 500, {}) != []
    assert CONTRACT.violations("GET", "/products/{productId}", 200, {**product, "stock": -1})
    assert CONTRACT.violations("GET", "/products/{productId}", 200, {**product, "createdAt": "x"})
    page = {"items": [{**product, "price": 12.5}], "nextCursor": None}
    assert CONTRACT.violations("GET", "/products", 200, page)  # an amount is never a number
    assert CONTRACT.violations("GET", "/products/{productId}", 200, {**product, "currency": "usd"})
    without_currency = {k: v for k, v in product.items() if k != "currency"}
    assert CONTRACT.violations("GET", "/products/{productId}", 200, without_currency)
    assert CONTRACT.violations("GET", "/products/{productId}", 200, {**product, "secret": 1})
    assert CONTRACT.violations("DELETE", "/products/{productId}", 204, {"a": 1})
    assert CONTRACT.violations("DELETE", "/products/{productId}", 404, {"error": "x"})
    order = {
        "orderId": "o1",
        "userId": "u1",
        "status": "PENDING",
        "items": [],
        "total": "0.00",
        "currency": "USD",
        "createdAt": "2024-01-02T03:04:05Z",
        "totals": dict.fromkeys(("subtotal", "shipping", "tax", "discount", "total"), "0.00"),
        "legacy": True,
        "shippingAddress": None,
        "shippingMethod": None,
    }
    assert CONTRACT.violations("POST", "/orders", 201, order, {"Idempotent-Replayed": "true"}) == []
    assert CONTRACT.violations("POST", "/orders", 201, {**order, "totals": {"total": 0}})
    assert CONTRACT.violations("POST", "/orders", 201, order, {"Idempotent-Replayed": "no"})
    assert CONTRACT.template_for("POST", "/users/register") == "/users/register"
    assert CONTRACT.template_for("GET", "/users/register") == "/users/{userId}"
    assert CONTRACT.template_for("POST", "/orders/o1/cancel?x=1") == "/orders/{orderId}/cancel"
    assert CONTRACT.template_for("PATCH", "/orders") is None


# --- a realistic session, every answer checked ----------------------------------------------


class Session:
    """Sends requests, checks each answer against the document and the expected status.

    Problems are collected rather than raised at once, so one run lists all of them.
    """

    def __init__(self, api) -> None:
        self.api = api
        self.problems: list[str] = []
        self.checked: set[tuple[str, str, int]] = set()

    def __call__(self, expect: int, method: str, path: str, body: Any = None, **kw: Any):
        reply = self.api.request(method, path, body, **kw)
        template = CONTRACT.template_for(method, path)
        if template is None:
            self.problems.append(f"{method} {path}: no documented operation")
            return reply
        self.checked.add((method, template, reply.status))
        self.problems += CONTRACT.violations(
            method, template, reply.status, reply.body, reply.headers
        )
        if reply.status != expect:
            self.problems.append(
                f"{method} {path} body={body!r} {kw}: expected {expect}, "
                f"got {reply.status} {reply.body!r}"
            )
            # Later steps build on successful ones: stop here, listing everything so far.
            assert not 200 <= expect < 300, "\n".join(self.problems)
        return reply


_emails = itertools.count(1)


def _email(tag: str) -> str:
    return f"flow-{tag}-{next(_emails)}@example.com"


def test_a_realistic_session_conforms_to_the_document(api, admin, monkeypatch):
    call = Session(api)
    json_type = {"Content-Type": "application/json"}
    call(200, "GET", "/openapi.json")

    # --- registration and login
    alice_email, bob_email = _email("alice"), _email("bob")
    alice = call(
        201,
        "POST",
        "/users/register",
        {"email": alice_email, "name": "Alice", "password": "pw-alice-1"},
    ).body
    bob = call(
        201,
        "POST",
        "/users/register",
        {"email": bob_email, "name": "Bob", "password": "pw-bob-123"},
    ).body
    for someone in (alice, bob):  # orders naming no address go to their book's default
        give_default_address(someone["userId"])
    call(
        409, "POST", "/users/register", {"email": alice_email, "name": "A", "password": "whatever1"}
    )
    call(
        409, "POST", "/users/register",
        {"email": alice_email.upper(), "name": "A", "password": "whatever1"},
    )  # fmt: skip
    for invalid in (
        {"email": "not-an-email", "name": "X", "password": "long-enough"},
        {"email": _email("x"), "name": "X", "password": "short"},
        {"email": _email("x"), "name": "   ", "password": "long-enough"},
        {"email": _email("x"), "name": "X"},
        {"email": _email("x"), "name": "X", "password": "long-enough", "role": "admin"},
        {"email": _email("x"), "name": 7, "password": "long-enough"},
        [],
        "text",
        None,
    ):
        call(400, "POST", "/users/register", raw=json.dumps(invalid))
    call(400, "POST", "/users/register", raw=b"")
    call(400, "POST", "/users/register", raw=b"{not json")
    call(400, "POST", "/users/register", raw=b"\xff\xfe")
    call(
        415, "POST", "/users/register",
        {"email": _email("x"), "name": "X", "password": "long-enough"},
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip

    alice_token = call(
        200, "POST", "/users/login", {"email": alice_email, "password": "pw-alice-1"}
    ).body["token"]
    bob_token = call(
        200, "POST", "/users/login", {"email": bob_email.upper(), "password": "pw-bob-123"}
    ).body["token"]
    call(401, "POST", "/users/login", {"email": alice_email, "password": "wrong-password"})
    call(401, "POST", "/users/login", {"email": _email("nobody"), "password": "pw-alice-1"})
    call(401, "POST", "/users/login", {"email": "", "password": ""})
    call(400, "POST", "/users/login", {"email": alice_email})
    call(400, "POST", "/users/login", {"email": alice_email, "password": 1})
    call(400, "POST", "/users/login", raw=b"[")
    call(
        415, "POST", "/users/login", {"email": alice_email, "password": "pw-alice-1"},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip

    # --- bearer tokens
    for bad in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer " + "x" * 5000):
        call(401, "GET", f"/users/{alice['userId']}", headers={**json_type, "Authorization": bad})
    call(401, "GET", f"/users/{alice['userId']}")
    call(401, "GET", f"/users/{alice['userId']}", token=alice_token[:-2] + "xx")

    # --- users
    call(200, "GET", "/users", token=admin.token)
    call(403, "GET", "/users", token=alice_token)
    call(401, "GET", "/users")
    for query in ("limit=0", "limit=101", "limit=abc", "limit=-1", "limit=1.5", "cursor=%21%21"):
        call(400, "GET", f"/users?{query}", token=admin.token)
    _walk_pages(call, "/users", admin.token, expect_at_least=3)

    call(200, "GET", f"/users/{alice['userId']}", token=alice_token)
    call(200, "GET", f"/users/{alice['userId']}", token=admin.token)
    call(404, "GET", f"/users/{alice['userId']}", token=bob_token)
    call(404, "GET", "/users/no-such-user", token=admin.token)
    call(404, "GET", "/users/" + "u" * 300, token=admin.token)

    alice_path = f"/users/{alice['userId']}"
    call(200, "PUT", alice_path, {"name": "Alice Liddell"}, token=alice_token)
    call(400, "PUT", alice_path, {"password": "new-password-1"}, token=alice_token)
    call(
        401, "PUT", alice_path, {"password": "new-password-1", "currentPassword": "wrong"},
        token=alice_token,
    )  # fmt: skip
    call(400, "PUT", alice_path, {"currentPassword": "pw-alice-1"}, token=alice_token)
    call(400, "PUT", alice_path, {}, token=alice_token)
    call(400, "PUT", alice_path, {"email": "new@example.com"}, token=alice_token)
    call(400, "PUT", alice_path, {"name": ""}, token=alice_token)
    call(404, "PUT", alice_path, {"name": "Mallory"}, token=bob_token)
    call(401, "PUT", alice_path, {"name": "Mallory"})
    call(
        415,
        "PUT",
        alice_path,
        {"name": "A"},
        token=alice_token,
        headers={"Content-Type": "text/csv"},
    )
    call(
        200, "PUT", alice_path, {"password": "new-password-1", "currentPassword": "pw-alice-1"},
        token=alice_token,
    )  # fmt: skip
    call(401, "GET", alice_path, token=alice_token)  # revoked by the password change
    alice_token = call(
        200, "POST", "/users/login", {"email": alice_email, "password": "new-password-1"}
    ).body["token"]
    call(200, "PUT", f"/users/{bob['userId']}", {"password": "reset-by-admin"}, token=admin.token)
    call(401, "GET", f"/users/{bob['userId']}", token=bob_token)
    bob_token = call(
        200, "POST", "/users/login", {"email": bob_email, "password": "reset-by-admin"}
    ).body["token"]

    # --- email verification and password reset (the links taken on their way to SES)
    sent: list[str] = []
    monkeypatch.setattr(account_links, "_send", lambda _to, email, _kind: sent.append(email.text))

    def token_in_last(kind: str) -> str:
        return sent[-1].split("?token=", 1)[1].split()[0]

    call(429, "POST", "/users/verify-email/resend", token=bob_token)  # registered just now
    call(401, "POST", "/users/verify-email/resend")
    monkeypatch.setattr(account_links, "now", lambda: time.time() + 61)
    call(202, "POST", "/users/verify-email/resend", token=bob_token)
    bob_link = token_in_last("verify")
    call(200, "POST", "/users/verify-email", {"token": bob_link})
    call(400, "POST", "/users/verify-email", {"token": bob_link})  # used
    call(400, "POST", "/users/verify-email", {"token": "x"})
    call(415, "POST", "/users/verify-email", raw=b"{}", headers={"Content-Type": "text/plain"})
    call(409, "POST", "/users/verify-email/resend", token=bob_token)
    call(202, "POST", "/users/forgot-password", {"email": bob_email})
    call(202, "POST", "/users/forgot-password", {"email": _email("nobody")})
    call(400, "POST", "/users/forgot-password", {"email": "not-an-email"})
    call(415, "POST", "/users/forgot-password", raw=b"{}", headers={"Content-Type": "text/plain"})
    reset = {"token": token_in_last("reset"), "password": "reset-by-link"}
    call(204, "POST", "/users/reset-password", reset)
    call(400, "POST", "/users/reset-password", reset)  # used
    call(400, "POST", "/users/reset-password", {"token": reset["token"]})
    call(415, "POST", "/users/reset-password", raw=b"{}", headers={"Content-Type": "text/plain"})
    call(401, "GET", f"/users/{bob['userId']}", token=bob_token)  # revoked by the reset
    bob_token = call(
        200, "POST", "/users/login", {"email": bob_email, "password": "reset-by-link"}
    ).body["token"]

    # --- products
    new_product = {"name": "Lamp", "price": "12.50", "description": "A lamp", "stock": 5}
    lamp = call(201, "POST", "/products", new_product, token=admin.token).body
    mug = call(
        201, "POST", "/products", {"name": "Mug", "price": "3", "stock": 5}, token=admin.token
    ).body
    rug = call(
        201, "POST", "/products", {"name": "Rug", "price": 0.1, "stock": 1}, token=admin.token
    ).body
    call(403, "POST", "/products", new_product, token=alice_token)
    call(401, "POST", "/products", new_product)
    for invalid in (
        {**new_product, "price": 1.005},
        {**new_product, "price": -1},
        {**new_product, "price": 1_000_001},
        {**new_product, "price": "1.005"},
        {**new_product, "price": "-1"},
        {**new_product, "price": "1000001"},
        {**new_product, "price": "1,00"},
        {**new_product, "stock": -1},
        {**new_product, "stock": 1.5},
        {**new_product, "name": ""},
        {**new_product, "colour": "red"},
        {"price": "1"},
        {"name": "x" * 201, "price": "1"},
    ):
        call(400, "POST", "/products", invalid, token=admin.token)
    call(400, "POST", "/products", raw='{"name": "N", "price": NaN}', token=admin.token)
    call(400, "POST", "/products", raw='{"name": "N", "price": 1e400}', token=admin.token)
    call(
        415,
        "POST",
        "/products",
        new_product,
        token=admin.token,
        headers={"Content-Type": "text/plain"},
    )

    call(200, "GET", "/products")
    call(200, "GET", "/products", token=alice_token)
    for query in ("limit=0", "limit=1000", "limit=x", "cursor=garbage", "cursor=" + "A" * 3000):
        call(400, "GET", f"/products?{query}")
    _walk_pages(call, "/products", None, expect_at_least=3)
    call(200, "GET", f"/products/{lamp['productId']}")
    call(404, "GET", "/products/no-such-product")
    call(404, "GET", "/products/" + "p" * 100)

    lamp_path = f"/products/{lamp['productId']}"
    call(200, "PUT", lamp_path, {"price": "15", "stock": 10}, token=admin.token)
    call(200, "PUT", lamp_path, {"price": 15}, token=admin.token)  # legacy number
    call(200, "PUT", lamp_path, {"description": ""}, token=admin.token)
    call(403, "PUT", lamp_path, {"price": "1"}, token=alice_token)
    call(401, "PUT", lamp_path, {"price": "1"})
    call(404, "PUT", "/products/no-such-product", {"price": "1"}, token=admin.token)
    call(400, "PUT", lamp_path, {}, token=admin.token)
    call(400, "PUT", lamp_path, {"price": 0.001}, token=admin.token)
    call(400, "PUT", lamp_path, {"price": "0.001"}, token=admin.token)
    call(400, "PUT", lamp_path, {"version": 3}, token=admin.token)
    call(
        415,
        "PUT",
        lamp_path,
        {"price": 1},
        token=admin.token,
        headers={"Content-Type": "text/html"},
    )

    # --- orders
    line = {"productId": lamp["productId"], "quantity": 2}
    order = call(201, "POST", "/orders", {"items": [line]}, token=alice_token).body
    call(200, "GET", "/shipping/options?country=US&subtotal=10.00")
    call(200, "GET", "/shipping/options?country=jp")
    call(400, "GET", "/shipping/options?country=USA")
    call(400, "GET", "/shipping/options?country=US&subtotal=0.001")
    to_california = {**ADDRESS, "city": "Oakland", "region": "CA", "postalCode": "94612"}
    shipped = {"items": [line], "shippingAddress": to_california, "shippingMethod": "express"}
    call(201, "POST", "/orders", shipped, token=alice_token)
    for invalid in (
        {**shipped, "shippingMethod": "teleport"},
        {**shipped, "shippingAddress": {**ADDRESS, "country": "GB"}, "shippingMethod": "pickup"},
        {**shipped, "shippingAddress": {**ADDRESS, "region": "ZZ"}},
        {**shipped, "addressId": "home"},
        {"items": [line], "addressId": "no-such-address"},
    ):
        call(400, "POST", "/orders", invalid, token=alice_token)
    keyed = {"items": [line, {"productId": mug["productId"], "quantity": 1}]}
    key = {**json_type, "Idempotency-Key": "flow-key-1"}
    first = call(201, "POST", "/orders", keyed, token=alice_token, headers=key)
    replay = call(201, "POST", "/orders", keyed, token=alice_token, headers=key)
    if replay.body != first.body:
        call.problems.append(f"idempotent replay differs: {first.body!r} != {replay.body!r}")
    call(422, "POST", "/orders", {"items": [line]}, token=alice_token, headers=key)
    call(
        400,
        "POST",
        "/orders",
        {"items": [line]},
        token=alice_token,
        headers={**json_type, "Idempotency-Key": ""},
    )
    call(
        400, "POST", "/orders", {"items": [line]}, token=alice_token,
        headers={**json_type, "Idempotency-Key": "k" * 256},
    )  # fmt: skip
    bob_order = call(201, "POST", "/orders", {"items": [line]}, token=bob_token).body
    call(201, "POST", "/orders", {"items": [line], "userId": bob["userId"]}, token=admin.token)
    call(403, "POST", "/orders", {"items": [line], "userId": bob["userId"]}, token=alice_token)
    call(400, "POST", "/orders", {"items": [line], "userId": "no-such-user"}, token=admin.token)
    call(401, "POST", "/orders", {"items": [line]})
    call(
        409,
        "POST",
        "/orders",
        {"items": [{"productId": rug["productId"], "quantity": 2}]},
        token=alice_token,
    )
    for invalid in (
        {"items": []},
        {"items": [{"productId": lamp["productId"], "quantity": 0}]},
        {"items": [{"productId": lamp["productId"], "quantity": 1001}]},
        {"items": [{"productId": lamp["productId"], "quantity": 600}] * 2},
        {"items": [{"productId": lamp["productId"]}]},
        {"items": [{"productId": lamp["productId"], "quantity": 1, "price": "0"}]},
        {"items": [{"productId": "no-such-product", "quantity": 1}]},
        {"items": [line] * 26},
        {"items": [line], "total": "0"},
        {"items": [line], "expectedTotal": "1.001"},
        {"items": line},
    ):
        call(400, "POST", "/orders", invalid, token=alice_token)
    call(
        415,
        "POST",
        "/orders",
        {"items": [line]},
        token=alice_token,
        headers={"Content-Type": "text/plain"},
    )

    call(200, "GET", "/orders", token=alice_token)
    call(200, "GET", f"/orders?userId={alice['userId']}", token=alice_token)
    call(403, "GET", f"/orders?userId={bob['userId']}", token=alice_token)
    call(200, "GET", "/orders", token=admin.token)
    call(200, "GET", f"/orders?userId={bob['userId']}", token=admin.token)
    call(200, "GET", "/orders?userId=no-such-user", token=admin.token)
    call(401, "GET", "/orders")
    for query in ("limit=0", "limit=abc", "cursor=garbage", "cursor=e30"):
        call(400, "GET", f"/orders?{query}", token=alice_token)
    _walk_pages(call, "/orders", alice_token, expect_at_least=2)
    _walk_pages(call, "/orders", admin.token, expect_at_least=4)
    _walk_pages(call, f"/orders?userId={bob['userId']}", admin.token, expect_at_least=2)

    order_path = f"/orders/{order['orderId']}"
    call(200, "GET", order_path, token=alice_token)
    call(200, "GET", order_path, token=admin.token)
    call(404, "GET", order_path, token=bob_token)
    call(404, "GET", "/orders/no-such-order", token=alice_token)
    call(404, "GET", "/orders/" + "o" * 100, token=admin.token)
    call(401, "GET", order_path)

    call(404, "POST", f"{order_path}/cancel", token=bob_token)
    call(401, "POST", f"{order_path}/cancel")
    call(200, "POST", f"{order_path}/cancel", token=alice_token)
    call(409, "POST", f"{order_path}/cancel", token=alice_token)
    call(404, "POST", "/orders/no-such-order/cancel", token=admin.token)
    call(403, "DELETE", f"/products/{mug['productId']}", token=alice_token)
    call(401, "DELETE", f"/products/{mug['productId']}")
    call(204, "DELETE", f"/products/{mug['productId']}", token=admin.token)
    call(404, "DELETE", f"/products/{mug['productId']}", token=admin.token)
    call(404, "GET", f"/products/{mug['productId']}")
    call(200, "POST", f"/orders/{first.body['orderId']}/cancel", token=admin.token)  # mug is gone
    call(201, "POST", "/orders", keyed, token=alice_token, headers=key)  # replay survives it
    call(200, "POST", f"/orders/{bob_order['orderId']}/cancel", token=admin.token)

    # --- storefront: catalogue, cart, checkout, fulfilment
    tea = {"name": "Sencha", "price": "9", "stock": 4, "category": "tea"}
    tea_id = call(201, "POST", "/products", tea, token=admin.token).body["productId"]
    call(200, "GET", "/categories")
    call(200, "GET", "/products?category=tea&q=sen&limit=1")
    call(400, "GET", "/products?category=Tea")
    call(400, "GET", "/products?q=")
    call(200, "GET", "/cart", token=alice_token)
    call(401, "GET", "/cart")
    line_path = f"/cart/items/{tea_id}"
    call(200, "PUT", line_path, {"quantity": 5}, token=alice_token)
    call(400, "PUT", line_path, {"quantity": 0}, token=alice_token)
    call(404, "PUT", "/cart/items/no-such-product", {"quantity": 1}, token=alice_token)
    call(409, "POST", "/cart/checkout", token=alice_token)  # 5 wanted, 4 in stock
    call(200, "DELETE", line_path, token=alice_token)
    call(404, "DELETE", f"/cart/items/{'x' * 100}", token=alice_token)
    call(409, "POST", "/cart/checkout", token=alice_token)  # CartEmpty
    call(200, "PUT", line_path, {"quantity": 2}, token=alice_token)
    call(204, "DELETE", "/cart", token=alice_token)
    call(200, "PUT", line_path, {"quantity": 2}, token=alice_token)
    placed = call(201, "POST", "/cart/checkout", token=alice_token).body
    placed_path = f"/orders/{placed['orderId']}"
    call(409, "POST", f"{placed_path}/ship", token=admin.token)  # still PENDING
    subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": placed["orderId"]}))
    call(403, "POST", f"{placed_path}/ship", token=alice_token)
    call(404, "POST", "/orders/no-such-order/ship", token=admin.token)
    call(400, "POST", f"{placed_path}/ship", {"carrier": ""}, token=admin.token)
    parcel = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
    call(200, "POST", f"{placed_path}/ship", parcel, token=admin.token)
    call(200, "POST", f"{placed_path}/deliver", token=admin.token)
    call(409, "POST", f"{placed_path}/deliver", token=admin.token)

    # --- after the sale: a return (rejected, asked again, approved, received), refunds
    back = {"lines": [{"productId": tea_id, "quantity": 1}], "reason": "Too strong"}
    returns_path = f"{placed_path}/returns"
    call(404, "POST", returns_path, back, token=bob_token)
    call(400, "POST", returns_path, {"lines": []}, token=alice_token)
    call(201, "POST", returns_path, back, token=alice_token)
    call(409, "POST", returns_path, back, token=alice_token)  # already requested
    call(403, "POST", f"{returns_path}/reject", {"reason": "Opened"}, token=alice_token)
    call(200, "POST", f"{returns_path}/reject", {"reason": "Opened"}, token=admin.token)
    call(201, "POST", returns_path, back, token=alice_token)
    call(409, "POST", f"{returns_path}/receive", token=admin.token)  # not approved yet
    call(400, "POST", f"{returns_path}/approve", {"lines": []}, token=admin.token)
    approve = {"lines": [{"productId": tea_id, "restock": True}]}
    call(200, "POST", f"{returns_path}/approve", approve, token=admin.token)
    call(200, "POST", f"{returns_path}/receive", token=admin.token)
    refunds_path = f"{placed_path}/refunds"
    key = {"Idempotency-Key": "refund-1"}
    call(201, "POST", refunds_path, {"amount": "0.50", "reason": "other"}, token=admin.token,
         headers=key)  # fmt: skip
    call(422, "POST", refunds_path, {"amount": "0.60", "reason": "other"}, token=admin.token,
         headers=key)  # fmt: skip
    call(409, "POST", refunds_path, {"amount": "999.00", "reason": "other"}, token=admin.token,
         headers={"Idempotency-Key": "refund-2"})  # fmt: skip
    call(400, "POST", refunds_path, {"amount": "1.00", "reason": "other"}, token=admin.token)
    call(403, "POST", refunds_path, {"amount": "1.00", "reason": "other"}, token=alice_token,
         headers=key)  # fmt: skip
    call(200, "GET", "/orders?status=DELIVERED", token=admin.token)
    call(403, "GET", "/orders?status=DELIVERED", token=alice_token)
    call(400, "GET", "/orders?status=LOST", token=admin.token)

    # --- the address book
    book_path = f"{alice_path}/addresses"
    home = {"name": "Alice", "line1": "1 Rabbit Hole", "city": "Oxford", "country": "GB"}
    call(200, "GET", book_path, token=alice_token)
    first = call(201, "POST", book_path, home, token=alice_token).body
    call(201, "POST", book_path, {**home, "line1": "2 Looking Glass", "isDefault": True},
         token=admin.token)  # fmt: skip
    call(400, "POST", book_path, {**home, "country": "XX"}, token=alice_token)
    call(404, "POST", book_path, home, token=bob_token)
    call(401, "GET", book_path)
    call(415, "POST", book_path, home, token=alice_token, headers={"Content-Type": "text/csv"})
    address_path = f"{book_path}/{first['addressId']}"
    call(200, "PUT", address_path, {"postalCode": "OX1 1AA", "isDefault": True}, token=alice_token)
    call(400, "PUT", address_path, {}, token=alice_token)
    call(404, "PUT", f"{book_path}/no-such-address", {"city": "Bath"}, token=alice_token)
    call(200, "GET", book_path, token=admin.token)
    call(404, "GET", book_path, token=bob_token)
    call(204, "DELETE", address_path, token=alice_token)
    call(404, "DELETE", address_path, token=alice_token)
    stored = len(call(200, "GET", book_path, token=alice_token).body["items"])
    for n in range(MAX_ADDRESSES - stored):
        call(201, "POST", book_path, {**home, "line1": f"{n} High Street"}, token=alice_token)
    call(409, "POST", book_path, home, token=alice_token)  # AddressBookFull
    # --- discount codes and the audit trail
    code = {"code": "spring", "percentOff": 10, "maxRedemptions": 1, "oncePerCustomer": True}
    call(201, "POST", "/discounts", code, token=admin.token)
    call(201, "POST", "/discounts", {"code": "flat", "amountOff": "2.50"}, token=admin.token)
    call(409, "POST", "/discounts", code, token=admin.token)
    call(400, "POST", "/discounts", {"code": "x", "percentOff": 10}, token=admin.token)
    call(400, "POST", "/discounts", {"code": "both", "percentOff": 1, "amountOff": "1"},
         token=admin.token)  # fmt: skip
    call(403, "POST", "/discounts", code, token=alice_token)
    call(401, "GET", "/discounts")
    call(415, "POST", "/discounts", code, token=admin.token, headers={"Content-Type": "text/plain"})
    _walk_pages(call, "/discounts", admin.token, expect_at_least=2)
    call(200, "GET", "/discounts/SPRING", token=admin.token)
    call(404, "GET", "/discounts/NOPE", token=admin.token)
    call(200, "PUT", "/discounts/FLAT", {"minSubtotal": "1", "endsAt": None}, token=admin.token)
    call(400, "PUT", "/discounts/FLAT", {}, token=admin.token)
    call(404, "PUT", "/discounts/NOPE", {"percentOff": 5}, token=admin.token)
    call(200, "POST", "/discounts/FLAT/retire", token=admin.token)
    call(404, "POST", "/discounts/NOPE/retire", token=admin.token)
    call(200, "PUT", line_path, {"quantity": 1}, token=alice_token)
    call(409, "POST", "/cart/checkout", {"discountCode": "flat"}, token=alice_token)  # retired
    call(201, "POST", "/cart/checkout", {"discountCode": "spring"}, token=alice_token)
    tea_line = {"productId": tea_id, "quantity": 1}
    call(409, "POST", "/orders", {"items": [tea_line], "discountCode": "spring"},
         token=bob_token)  # fmt: skip
    call(400, "POST", "/orders", {"items": [tea_line], "discountCode": "?"}, token=bob_token)
    call(200, "GET", "/audit", token=admin.token)
    call(200, "GET", "/audit?entity=discount:SPRING", token=admin.token)
    call(400, "GET", "/audit?entity=nothing", token=admin.token)
    call(403, "GET", "/audit", token=alice_token)
    _walk_pages(call, "/audit?entity=product", admin.token, expect_at_least=3)

    # --- account deletion
    call(404, "DELETE", alice_path, token=bob_token)
    call(401, "DELETE", alice_path)
    call(204, "DELETE", alice_path, token=alice_token)
    call(401, "GET", alice_path, token=alice_token)
    call(401, "POST", "/orders", {"items": [line]}, token=alice_token)
    call(401, "POST", "/users/login", {"email": alice_email, "password": "new-password-1"})
    call(204, "DELETE", f"/users/{bob['userId']}", token=admin.token)
    call(404, "DELETE", f"/users/{bob['userId']}", token=admin.token)
    call(404, "DELETE", "/users/no-such-user", token=admin.token)
    # This suite's stage has no payment provider (tests/api/test_payments.py has one).
    call(404, "POST", "/payments/webhook", raw="{}", headers={"Stripe-Signature": "t=1,v1=0"})

    assert not call.problems, "\n".join(call.problems)
    # The walk reached every operation of the document.
    reached = {(m, t) for m, t, _ in call.checked}
    assert reached == set(CONTRACT.operations()), set(CONTRACT.operations()) - reached


def _walk_pages(call: Session, path: str, token: str | None, expect_at_least: int) -> None:
    """Page through a list one item at a time; every item once, nextCursor null at the end."""
    separator = "&" if "?" in path else "?"
    seen: list[Any] = []
    cursor = None
    for _ in range(200):
        query = f"{separator}limit=1" + (f"&cursor={cursor}" if cursor else "")
        reply = call(200, "GET", path + query, token=token)
        if reply.status != 200:
            return
        seen += reply.body["items"]
        cursor = reply.body["nextCursor"]
        if cursor is None:
            break
    keys = [json.dumps(item, sort_keys=True) for item in seen]
    if len(keys) != len(set(keys)) or len(keys) < expect_at_least:
        call.problems.append(f"paging {path}: {len(keys)} items, {len(set(keys))} distinct")
