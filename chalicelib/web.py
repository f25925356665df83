"""The web page (storefront and admin): static files served by the API's own function.

The files live in ``chalicelib/web/`` because Chalice bundles everything under
``chalicelib/`` into the deployment package. They are read from the package, never from
AWS, so serving them makes no AWS call (and needs no IAM permission). Every answer carries
a strong ``ETag`` and ``Cache-Control: no-cache``: a browser revalidates each time and gets
a bodiless 304 while the file is unchanged, so a deploy is visible at once. The page is
text only (HTML, CSS, JavaScript modules), which API Gateway passes through as is.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from chalicelib.errors import NotFound
from chalicelib.payments import browser_api_base
from chalicelib.text import echo

WEB_DIR = Path(__file__).resolve().parent / "web"
INDEX = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
}
CACHE_CONTROL = "no-cache"
# The page loads only its own files and talks only to its own API (and, on a stage that
# takes payments, to Stripe's API, where the browser confirms a payment); nothing inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@functools.cache
def content_security_policy() -> str:
    stripe = browser_api_base()
    return CONTENT_SECURITY_POLICY.format(connect=f"'self' {stripe}" if stripe else "'self'")


@dataclass(frozen=True)
class Asset:
    name: str
    body: str
    content_type: str
    etag: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: dict[str, str]


@functools.cache
def assets() -> dict[str, Asset]:
    """Every servable file, by name: a fixed list read once, so no request names a path."""
    found = {}
    for path in sorted(WEB_DIR.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(body.encode()).hexdigest()[:32]
        found[path.name] = Asset(path.name, body, content_type, f'"{digest}"')
    return found


def serve(name: str, if_none_match: str | None) -> Answer:
    """The answer for the file ``name``: 200 with it, or 304 when the client's copy is current."""
    asset = assets().get(name)
    if asset is None:
        raise NotFound(f"no page file named {echo(name)!r}")
    headers = {
        "Content-Type": asset.content_type,
        "Cache-Control": CACHE_CONTROL,
        "ETag": asset.etag,
        "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if if_none_match and asset.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Answer(304, "", headers)
    return Answer(200, asset.body, headers)
