"""The one-line embed: `/embed.js` renders the comment form and the published list on any page.

A site with no comment platform pastes `<div id="comments" data-article-id="..."></div>` and
`<script src="https://SERVICE/embed.js" async></script>`. The script is the widget's own
(api/static/widget/comments.js), served from a fixed address so pages never name a static path;
it finds the service from its own URL, loads the widget's stylesheet from there, and calls the
public API across origins as MODERATION_ALLOWED_ORIGINS allows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, current_app, request

bp = Blueprint("embed", __name__)

SCRIPT = Path("widget", "comments.js")
# Short, and revalidated with its ETag after: a new release reaches readers within minutes.
MAX_AGE_SECONDS = 300


@bp.get("/embed.js")
def script() -> Response:
    """The widget's script, for a `<script src>` on a page of another origin."""
    # Read whole (a few kilobytes) rather than streamed from an open file: nothing to leak or close.
    body = (Path(str(current_app.static_folder)) / SCRIPT).read_bytes()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    # Public code: a page may load it with crossorigin/integrity, or under Cross-Origin-Embedder-Policy.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)  # 304 for a matching If-None-Match
    return response
