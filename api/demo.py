"""The comment widget's example article page, served in development so a newcomer sees the whole flow.

The widget itself is static (api/static/widget/) plus the HTML in api/templates/widget/comments.html,
which a site copies into its article pages. Here the page also renders the published comments on
the server, so the page reads the same with JavaScript off; the form then posts as a plain form and
the API answers 303 back to this page with the receipt in the query string.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState

from api.console import when
from api.services import services
from api.views import public_comment
from moderation.schemas import article_id_or_none

bp = Blueprint("demo", __name__, url_prefix="/demo")

DEMO_ARTICLE = "budget-2026"
MAX_COMMENTS = 200
RECEIPTS = {
    "published": "Thank you: your comment is published.",
    "pending": "Thank you: your comment is awaiting moderation and will appear once a moderator approves it.",
}
LOOPBACK = ("127.0.0.1", "localhost")


@bp.record_once
def _allow_own_origin(state: BlueprintSetupState) -> None:
    """Let the demo's plain form post come back here: allow the development server's own origin.

    Only the loopback names of the port `moderation serve` binds (MODERATION_BIND, default 8000),
    decided once at start-up, never from a request's Host header.
    """
    config = state.app.config
    if config["ENV"] == "production":
        return
    host, _, port = os.environ.get("MODERATION_BIND", "127.0.0.1:8000").rpartition(":")
    host = host.strip("[]")
    hosts = LOOPBACK if host in ("", "0.0.0.0", "::", *LOOPBACK) else (host,)
    own = [f"http://{name}:{port}" for name in hosts if port.isdigit()]
    config["ALLOWED_ORIGINS"] = [*config["ALLOWED_ORIGINS"], *(o for o in own if o not in config["ALLOWED_ORIGINS"])]


def comment_tree(comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replies under their parent, each level oldest first; a reply whose parent is not shown stays on top."""
    nodes = {c["id"]: {**c, "created_display": when(c["created_at"]), "replies": []} for c in comments}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"] or "")
        (parent["replies"] if parent else roots).append(node)
    return roots


@bp.get("/")
def index() -> Any:
    return redirect(url_for("demo.article", article_id=DEMO_ARTICLE))


@bp.get("/articles/<article:article_id>", merge_slashes=False)
def article(article_id: str) -> Any:
    if article_id_or_none(article_id) != article_id:
        abort(404)
    records, _ = services().store.published_page(article_id, None, MAX_COMMENTS)
    comments = [public_comment(record) for record in records]
    status = request.args.get("comment_status", "")
    receipt = RECEIPTS.get(status)
    if status == "refused":
        # The no-JavaScript path: the page says what the widget would (see refusalText in comments.js).
        until, message = request.args.get("refused_until", ""), request.args.get("refused_message", "")
        receipt = f"You cannot comment here until {until}." if until else "You can no longer comment here."
        receipt += f" {message}" if message else ""
    return render_template(
        "demo/article.html",
        article_id=article_id,
        comments=comment_tree(comments),
        comment_count=len(comments),
        receipt=receipt,
        receipt_status=("error" if status == "refused" else status) if receipt else "",
        return_to=url_for("demo.article", article_id=article_id, _external=True),
        api_base="",
    )
