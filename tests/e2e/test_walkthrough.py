"""The curl walkthrough (docs/walkthrough.md), run for real against a fresh local stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

from scripts import walkthrough


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_walkthrough_prints_what_the_page_shows(stack_launcher):
    steps = walkthrough.steps(walkthrough.WALKTHROUGH.read_text())
    assert len(steps) > 20, "the walkthrough markers or fences were lost"
    assert all(step.shown for step in steps[1:]), "every step after the setup shows output"
    # A stack of its own: the walkthrough registers fixed emails.
    with stack_launcher() as stack:
        mail = f"http://127.0.0.1:{stack.moto_port}/_devstack/outbox"
        outputs = walkthrough.run(steps, stack.url, mail)
    assert walkthrough.differences(steps, outputs) == []


def test_a_changed_response_is_reported():
    steps = [walkthrough.Step("echo", '{\n  "status": "PENDING"\n}\n201', None)]
    assert walkthrough.differences(steps, ['{"status": "PENDING"}\n201']) == []
    assert walkthrough.differences(steps, ['{"status": "CONFIRMED"}\n201'])
    assert walkthrough.differences(steps, ['{"status": "PENDING"}\n200'])


def test_ids_timestamps_and_tokens_are_masked_but_keys_are_not():
    shown = '{"orderId": "897c214f-871c-4d73-b662-97630e1151c1", "at": "2026-11-28T06:24:15.326Z"}'
    other = '{"orderId": "00000000-871c-4d73-b662-97630e1151c1", "at": "2027-01-01T00:00:00Z"}'
    renamed = '{"order": "00000000-871c-4d73-b662-97630e1151c1", "at": "2027-01-01T00:00:00Z"}'
    step = walkthrough.Step("echo", shown, None)
    assert walkthrough.differences([step], [other]) == []
    assert walkthrough.differences([step], [renamed])


def readme_taste() -> str:
    """The bash block of the README's "A taste (curl)" section."""
    readme = (walkthrough.ROOT / "README.md").read_text()
    section = readme.split("## A taste (curl)", 1)[1].split("\n## ", 1)[0]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the taste uses curl")
def test_the_readme_taste_does_what_its_comments_say(stack):
    email = f"alice-{uuid.uuid4().hex[:8]}@example.com"  # the shared stack may know alice
    script = readme_taste().replace(f"API={walkthrough.DEFAULT_API}", f"API={stack.url}")
    assert "alice@example.com" in script and stack.url in script
    script = script.replace("alice@example.com", email)

    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    registered, status, refused, code = result.stdout.strip().splitlines()
    assert json.loads(registered)["email"] == email
    assert json.loads(registered)["role"] == "customer"
    assert status == "CONFIRMED"
    assert json.loads(refused)["code"] == "InsufficientStock"
    assert code == "409"


def test_a_shortened_order_id_in_an_email_subject_is_masked():
    step = walkthrough.Step("echo", "Your order 2d7cf5b7… is confirmed — 30.50 USD", None)
    assert walkthrough.differences([step], ["Your order 00c0ffee… is confirmed — 30.50 USD"]) == []
    assert walkthrough.differences([step], ["Your order 00c0ffee… is cancelled — 30.50 USD"])
