"""Every error code the app can answer with is declared in chalicelib/errors.py, and the
document's ``Error.code`` enum is exactly that list.

The scan reads the source of everything that runs behind the API (``app.py`` and
``chalicelib/``): each error it constructs, and each ``"code"`` it writes into a body
by hand. A code that bypasses the declarations fails here, naming file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import app
from chalicelib import errors, openapi
from chalicelib.errors import ERRORS, AppError

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")])
DOCUMENT = openapi.document(app.OPERATIONS)


def _error_classes() -> dict[str, type[AppError]]:
    found: dict[str, type[AppError]] = {"AppError": AppError}
    pending = [AppError]
    while pending:
        for sub in pending.pop().__subclasses__():
            found[sub.__name__] = sub
            pending.append(sub)
    return found


def _declaring_class(error: type[AppError]) -> type[AppError] | None:
    """The class whose own ``code`` this error answers with (None: a family's bare base)."""
    if error.__dict__.get("family"):
        return None
    return next((k for k in error.__mro__ if "code" in k.__dict__), None)


def codes_in_source(path: Path) -> list[tuple[int, str, str]]:
    """(line, what, code) for every error code the file can put in a response."""
    classes = _error_classes()
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            error = classes.get(name or "")
            if error is not None:
                declaring = _declaring_class(error)
                code = declaring.code if declaring else f"<{name} declares no code>"
                found.append((node.lineno, f"{name}(...)", code))
        elif isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if not {"error", "code"} <= keys or any(isinstance(v, ast.Dict) for v in node.values):
                continue  # not an error body (the Error schema's properties, say)
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(value, ast.Attribute) and value.attr == "code":
                    continue  # an error's own declared code (AppError.body)
                if isinstance(key, ast.Constant) and key.value == "code":
                    code = value.value if isinstance(value, ast.Constant) else "<computed>"
                    found.append((node.lineno, '{"code": ...}', str(code)))
    return found


def undeclared_codes(sources: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: {what} answers {code!r}, not in errors.ERRORS"
        for path in sources
        for line, what, code in codes_in_source(path)
        if code not in ERRORS
    ]


def test_every_code_the_app_can_answer_with_is_declared():
    problems = undeclared_codes(SOURCES)
    assert not problems, (
        "declare each code as an AppError subclass in chalicelib/errors.py (a conflict gets"
        " its own subclass of Conflict):\n" + "\n".join(problems)
    )


def test_the_scan_finds_an_undeclared_code(tmp_path):
    # The scan itself can fail: a hand-written code, a bare family, a computed code.
    source = tmp_path / "rogue.py"
    source.write_text(
        "from chalicelib.errors import Conflict, NotFound\n"
        "def a(): return {'error': 'x', 'code': 'Teapot'}\n"
        "def b(): raise Conflict('which one?')\n"
        "def c(code): return {'error': 'x', 'code': code}\n"
        "def d(): raise NotFound('fine')\n"
    )
    problems = [p.split(": ", 1)[1] for p in _undeclared_in(source)]
    assert problems == [
        "{\"code\": ...} answers 'Teapot', not in errors.ERRORS",
        "Conflict(...) answers '<Conflict declares no code>', not in errors.ERRORS",
        "{\"code\": ...} answers '<computed>', not in errors.ERRORS",
    ]


def _undeclared_in(source: Path) -> list[str]:
    return [
        f"{source.name}:{line}: {what} answers {code!r}, not in errors.ERRORS"
        for line, what, code in codes_in_source(source)
        if code not in ERRORS
    ]


def test_every_declared_code_can_be_answered():
    # No dead codes in the enum: each is constructed somewhere, or is Chalice's own.
    used = {code for path in SOURCES for _, _, code in codes_in_source(path)}
    used |= {error.code for error in errors.CHALICE_CODES.values()}
    assert set(ERRORS) - used == set()


def test_the_document_enum_is_the_declared_list():
    document = DOCUMENT
    assert document["components"]["schemas"]["ErrorCode"]["enum"] == list(ERRORS)
    assert document["components"]["schemas"]["Error"]["properties"]["code"] == {
        "$ref": "#/components/schemas/ErrorCode"
    }


def test_each_conflict_has_its_own_code():
    conflicts = [e for e in ERRORS.values() if e.status_code == 409]
    assert len(conflicts) >= 5
    assert "Conflict" not in ERRORS


def test_a_code_cannot_be_declared_twice():
    with pytest.raises(TypeError, match="declared twice"):

        class Again(AppError):
            code = "NotFound"


@pytest.mark.parametrize("operation", app.OPERATIONS, ids=lambda op: op.operation_id)
def test_each_409_names_its_own_causes(operation):
    # A 409 is declared with its error classes: its description lists exactly their codes.
    responses = DOCUMENT["paths"][operation.path][operation.method]["responses"]
    if "409" not in responses:
        return
    declared = [e for e in operation.errors if not isinstance(e, int) and e.status_code == 409]
    assert declared, "declare a 409 by its error classes, e.g. errors=(..., EmailTaken)"
    described = responses["409"]["description"]
    named = [code for code in ERRORS if ERRORS[code].status_code == 409 and code in described]
    assert named == [e.code for e in sorted(declared, key=list(ERRORS.values()).index)]


def test_every_conflict_code_is_declared_by_an_operation():
    declared = {e for op in app.OPERATIONS for e in op.errors if not isinstance(e, int)}
    conflicts = {e for e in ERRORS.values() if e.status_code == 409}
    assert conflicts - declared == set()
