"""The yardstick for bench/intake.py: the least a Flask app can do for the same two routes.

POST /v1/comments parses the JSON body and writes one hash and one stream entry to Redis (one HSET,
one XADD, sent as one pipeline), then answers 201 with the same fields the service answers.
GET /v1/articles/<article_id>/comments reads the same published comments the service shows (its
sorted set and hashes, under the same key prefix) with one ZRANGEBYLEX and one pipelined call for
the hashes, and answers the same JSON shape.

No validation, no model, no policy, no metrics, no logs, no rate limits: everything the service does
beyond this is what the ratio measures. Run it under gunicorn with the service's settings:

    gunicorn -c python:api.gunicorn_conf -b 127.0.0.1:8100 'bench.reference_app:create_app()'

With `REFERENCE_SCORES=1` (bench/intake.py --floor) the POST also scores the body with the service's
model and stores the two scores and a status from them: the least any service can do that scores
every comment before answering, as the contract asks. Its ratio to the plain reference is the
ceiling for the service's POST ratio.
"""

from __future__ import annotations

import os
from datetime import UTC
from typing import Any

from flask import Flask, jsonify, request
from redis import Redis
from ulid import ULID

from moderation.keys import Keys

PAGE = 50


def create_app(redis_url: str | None = None, prefix: str | None = None, scores: bool | None = None) -> Flask:
    """The reference app; REDIS_URL, MODERATION_KEY_PREFIX and MODERATION_MODEL_PATH as the service reads them."""
    app = Flask(__name__)
    if scores is None:
        scores = os.environ.get("REFERENCE_SCORES") == "1"
    scorer = None
    if scores:
        from api import load_model  # the service's loader: the same artifact, loaded before the fork

        scorer = load_model(os.environ.get("MODERATION_MODEL_PATH"))
    redis = Redis.from_url(redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                           decode_responses=True)
    prefix = prefix if prefix is not None else os.environ.get("MODERATION_KEY_PREFIX") or Keys().prefix
    # The reference's writes go under keys of their own, so they never show up in the service's lists.
    write_prefix = prefix + "ref:"

    @app.post("/v1/comments")
    def post_comment() -> Any:
        data = request.get_json()
        ulid = ULID()
        comment_id = str(ulid)
        created_at = ulid.datetime.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        article_id = str(data["article_id"])
        body = str(data["body"])
        fields: dict[Any, str] = {  # Any: redis-py types the mapping with an invariant key
            "id": comment_id,
            "article_id": article_id,
            "name": str(data["name"]),
            "email": str(data["email"]),
            "body": body,
            "created_at": created_at,
            "status": "published",
        }
        if scorer is not None:
            scored = scorer.score(body)
            fields.update(spam=f"{scored.spam:.6f}", abuse=f"{scored.abuse:.6f}",
                          status="published" if max(scored.spam, scored.abuse) < 0.5 else "pending")
        pipe = redis.pipeline(transaction=False)
        pipe.hset(write_prefix + "comment:" + comment_id, mapping=fields)
        pipe.xadd(write_prefix + "events", {"event": "submitted", "comment_id": comment_id})
        pipe.execute()
        response = jsonify(id=comment_id, article_id=article_id, status=fields["status"], created_at=created_at)
        response.status_code = 201
        return response

    @app.get("/v1/articles/<article_id>/comments")
    def list_comments(article_id: str) -> Any:
        ids: Any = redis.zrangebylex(f"{prefix}article:{article_id}:published", "-", "+", 0, PAGE + 1)
        more = len(ids) > PAGE
        ids = ids[:PAGE]
        pipe = redis.pipeline(transaction=False)
        for comment_id in ids:
            pipe.hgetall(prefix + "comment:" + comment_id)
        records = pipe.execute()
        comments = [
            {
                "id": record["id"],
                "parent_id": record.get("parent_id") or None,
                "name": record.get("name", ""),
                "website": record.get("website") or None,
                "body": record.get("body", ""),
                "created_at": record.get("created_at", ""),
            }
            for record in records
            if record
        ]
        return jsonify(comments=comments, next_cursor=ids[-1] if more and ids else None)

    @app.get("/readyz")
    def ready() -> Any:
        return jsonify(ready=bool(redis.ping()))

    return app
