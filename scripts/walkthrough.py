"""The curl walkthrough (docs/walkthrough.md), executed: ``python -m scripts.walkthrough``.

The walkthrough lives between ``<!-- walkthrough:begin -->`` and
``<!-- walkthrough:end -->`` in docs/walkthrough.md: ```` ```bash ```` blocks run in
one shell session, each optionally followed by a ```` ```text ```` block with the
output it prints. ``main`` runs them against a live API (``--url``, default the local
stack) and compares the output with what the page shows (ids, timestamps, tokens and
cursors masked), so the page cannot drift from the API. ``--write`` refreshes the shown
output instead.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGH = ROOT / "docs" / "walkthrough.md"
BEGIN, END = "<!-- walkthrough:begin -->", "<!-- walkthrough:end -->"
DEFAULT_API = "http://127.0.0.1:8000"
# The banner's "mail:" line; its port is the emulator's, a free one on each start.
DEFAULT_MAIL = "http://127.0.0.1:41234/_devstack/outbox"
_FENCE = re.compile(r"```(bash|text)\n(.*?)```", re.DOTALL)
_SEPARATOR = "@@walkthrough-step@@"
_VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\b[0-9a-f]{8}…"), "<id>…"),  # an order id as an email subject shortens it
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"), "<time>"),
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "<token>"),
    (re.compile(r"^eyJ[\w-]+$"), "<cursor>"),
]


@dataclass
class Step:
    commands: str
    shown: str | None  # the output the page shows, if any
    span: tuple[int, int] | None  # where that output sits in the page


def steps(page: str) -> list[Step]:
    start = page.index(BEGIN)
    end = page.index(END)
    found: list[Step] = []
    for match in _FENCE.finditer(page, start, end):
        kind, body = match.group(1), match.group(2)
        if kind == "bash":
            found.append(Step(body, None, None))
        elif found and found[-1].shown is None:
            found[-1].shown = body
            found[-1].span = match.span(2)
    return found


def run(all_steps: list[Step], api: str, mail: str | None = None) -> list[str]:
    """Run every step in one bash session against ``api``; the output of each step.

    ``mail`` is the stack's outbox URL (the banner's ``mail:`` line).
    """
    script = ["set -euo pipefail"]
    for step in all_steps:
        commands = step.commands.replace(f"API={DEFAULT_API}", f"API={api}")
        if mail:
            commands = commands.replace(f"MAIL={DEFAULT_MAIL}", f"MAIL={mail}")
        script.append(commands)
        script.append(f"echo; echo {_SEPARATOR}")
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"walkthrough failed ({result.returncode}):\n{result.stderr}")
    outputs = result.stdout.split(f"{_SEPARATOR}\n")[: len(all_steps)]
    return [_tidy(output) for output in outputs]


def _tidy(output: str) -> str:
    """Pretty-print JSON lines for the page; plain lines stay as they are."""
    lines = []
    for line in output.strip("\n").splitlines():
        try:
            lines.append(json.dumps(json.loads(line), indent=2))
        except ValueError:
            lines.append(line)
    return "\n".join(lines).strip()


def _mask(value: object) -> object:
    if isinstance(value, str):
        for pattern, replacement in _VOLATILE:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, list):
        # Scan order (users, products) is DynamoDB's hash order, not stable across runs.
        return sorted((_mask(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return value


def _documents(text: str) -> list[object]:
    """The JSON values and plain lines of an output, in order."""
    decoder = json.JSONDecoder()
    found: list[object] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            end = text.find("\n", position)
            end = len(text) if end == -1 else end
            value, position = text[position:end].rstrip(), end
        found.append(_mask(value))
    return found


def differences(all_steps: list[Step], outputs: list[str]) -> list[str]:
    problems = []
    for number, (step, output) in enumerate(zip(all_steps, outputs, strict=True), 1):
        shown = _documents(step.shown or "")
        actual = _documents(output)
        if shown != actual:
            first = step.commands.strip().splitlines()[0]
            problems.append(f"step {number} ({first}):\n  page:   {shown}\n  actual: {actual}")
    return problems


def write(page: str, all_steps: list[Step], outputs: list[str]) -> str:
    for step, output in reversed(list(zip(all_steps, outputs, strict=True))):
        if step.span is not None:
            begin, end = step.span
            page = page[:begin] + output + "\n" + page[end:]
    return page


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.walkthrough")
    parser.add_argument("--url", default=DEFAULT_API, help="base URL of a fresh local stack")
    parser.add_argument("--mail", default=None, help="the outbox URL the stack printed (mail:)")
    parser.add_argument(
        "--write", action="store_true", help="refresh the output docs/walkthrough.md shows"
    )
    args = parser.parse_args()
    page = WALKTHROUGH.read_text()
    all_steps = steps(page)
    outputs = run(all_steps, args.url.rstrip("/"), args.mail)
    if args.write:
        WALKTHROUGH.write_text(write(page, all_steps, outputs))
        return 0
    problems = differences(all_steps, outputs)
    print("\n".join(problems) or f"walkthrough: {len(all_steps)} steps match {WALKTHROUGH.name}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
