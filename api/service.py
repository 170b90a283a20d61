"""Routes for the people who run the service: liveness, readiness, the API description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import openapi
from api.services import services

bp = Blueprint("service", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = services().ping()
    ready = all(checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi.build())
