"""The web page's files, served by the app: types, caching, CSP, and no AWS call."""

from __future__ import annotations

import re

import pytest

from chalicelib import web

PAGE_FILES = [
    "account.js",
    "admin.js",
    "api.js",
    "app.js",
    "dom.js",
    "index.html",
    "shop.js",
    "style.css",
]


def header(reply, name: str) -> str:
    found = {key.lower(): value for key, value in reply.headers.items()}
    return found[name.lower()]


def test_the_page_files_are_the_ones_in_the_package():
    assert sorted(web.assets()) == PAGE_FILES


def test_the_page_is_served_at_the_root(api, aws_calls):
    reply = api.get("/")
    assert reply.status == 200
    assert header(reply, "Content-Type") == "text/html; charset=utf-8"
    assert reply.body == (web.WEB_DIR / "index.html").read_text()
    assert aws_calls.calls == []  # static files: no AWS call, so no IAM permission


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("api.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
    ],
)
def test_each_file_has_its_content_type_and_caching_headers(api, name, content_type):
    reply = api.get(f"/web/{name}")
    assert reply.status == 200
    assert header(reply, "Content-Type") == content_type
    assert header(reply, "Cache-Control") == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', header(reply, "ETag"))
    assert header(reply, "X-Content-Type-Options") == "nosniff"
    assert "script-src 'self'" in header(reply, "Content-Security-Policy")


def test_a_current_copy_is_revalidated_with_a_bodiless_304(api):
    etag = header(api.get("/web/app.js"), "ETag")
    again = api.get("/web/app.js", headers={"If-None-Match": f'"stale", {etag}'})
    assert again.status == 304
    assert again.body is None
    assert header(again, "ETag") == etag
    assert api.get("/web/app.js", headers={"If-None-Match": '"stale"'}).status == 200


def test_the_etag_changes_with_the_content(api, monkeypatch, tmp_path):
    (tmp_path / "index.html").write_text("<p>one</p>")
    monkeypatch.setattr(web, "WEB_DIR", tmp_path)
    web.assets.cache_clear()
    try:
        first = web.serve("index.html", None).headers["ETag"]
        (tmp_path / "index.html").write_text("<p>two</p>")
        web.assets.cache_clear()
        assert web.serve("index.html", None).headers["ETag"] != first
    finally:
        web.assets.cache_clear()


@pytest.mark.parametrize("name", ["nope.js", "..%2Fapp.py", "web.py", "%2e%2e", "index.htm"])
def test_anything_else_is_a_json_404(api, name):
    reply = api.get(f"/web/{name}")
    assert reply.status == 404
    assert reply.body["code"] == "NotFound"  # the API's error shape, parsed as JSON


def test_the_page_references_only_files_that_are_served():
    html = (web.WEB_DIR / "index.html").read_text()
    referenced = set(re.findall(r'(?:href|src)="web/([^"]+)"', html))
    imported = set()
    for name in web.assets():
        if name.endswith(".js"):
            text = (web.WEB_DIR / name).read_text()
            imported |= set(re.findall(r'from "\./([^"]+)"', text))
    assert referenced | imported <= set(web.assets())
    assert {"app.js", "style.css"} <= referenced
    # Offline, no CDN: nothing is loaded from another origin.
    for name in web.assets():
        text = (web.WEB_DIR / name).read_text()
        assert not re.search(r"([\"'`]|url\()\s*(https?:)?//", text), name
