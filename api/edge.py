"""The web edge: CORS for the site's own origins, and headers that every response carries."""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS

# Only the routes a site's pages call from the browser; moderator routes are never cross-origin.
PUBLIC_ROUTES = r"^/v1/(comments|articles)(/.*)?$"


def init_app(app: Flask) -> None:
    origins = app.config["ALLOWED_ORIGINS"]
    if origins:
        CORS(
            app,
            resources={PUBLIC_ROUTES: {"origins": origins}},
            allow_headers=["Content-Type", "Idempotency-Key"],
            expose_headers=["Location", "Retry-After"],
            methods=["GET", "POST"],
            max_age=600,
        )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # headers.setdefault, without its cost: werkzeug answers "absent" by raising and catching an
        # exception, and these headers are absent from nearly every response.
        present = {name.lower() for name, _ in headers.items()}
        if "x-content-type-options" not in present:
            headers["X-Content-Type-Options"] = "nosniff"
        if "referrer-policy" not in present:
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        # response.mimetype, without parsing the header's parameters into a dict
        if headers.get("Content-Type", "").partition(";")[0].strip().lower() == "text/html":
            if "x-frame-options" not in present:
                headers["X-Frame-Options"] = "DENY"
            if "content-security-policy" not in present:
                headers["Content-Security-Policy"] = (
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
                )
        return response
