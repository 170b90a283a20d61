"""The console's Model page in a real browser: learn runs, the learning curve, promote and roll back; admins only."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from moderation.intake import Scorer
from moderation.learn import Learner, learn_once
from moderation.model.classifier import DEFAULT_MODEL_PATH
from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.registry import ModelRegistry
from moderation.store import CommentStore
from tests.test_learn import make_site

from .support import Server, SignIn
from .test_console_http import signed_in

# A learn run adapts the real model: one server is enough here (the registry's scripts run on a
# cluster in the other tests).
pytestmark = pytest.mark.parametrize("redis_server", ["single"], indirect=True)


@pytest.fixture
def registry(app: Flask) -> ModelRegistry:
    found: ModelRegistry = app.extensions["moderation"].registry
    return found


def learned(store: CommentStore, registry: ModelRegistry, model: Scorer) -> dict[str, Any]:
    """One real learn run on a site that rejects name-calling the shipped model lets through: promoted."""
    make_site(store, 7, training=120, held_out=30)
    run = learn_once(Learner(store, registry, model, PolicyStore(store.redis, store.keys).load, actor="learn:nightly"),
                     store.redis, store.keys)
    assert run["verdict"] == "promoted", run["why"]
    return run


def test_an_admin_rolls_back_a_learned_version_and_promotes_it_again(
    page: Page, server: Server, store: CommentStore, registry: ModelRegistry, moderators: Moderators, model: Scorer,
    sign_in: SignIn, screenshots: Path,
) -> None:
    run = learned(store, registry, model)
    candidate = str(run["candidate"])
    sign_in(page, moderators.add("root", "admin"), "/console/")
    page.get_by_role("link", name="Model").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Model")
    expect(page.locator("#live-version")).to_have_text(candidate)

    # The run: its verdict, figures and reasons, and its point on the learning curve.
    row = page.locator("tr.run").first
    expect(row).to_contain_text("Promoted")
    expect(row).to_contain_text("120 learned from, 30 held out")
    live, ours = run["figures"]["live"], run["figures"]["candidate"]
    expect(row).to_contain_text(f"{live['mean_auc']:.3f} → {ours['mean_auc']:.3f}")
    expect(row).to_contain_text(f"held-out AUC {ours['mean_auc']:.3f} against the live model's {live['mean_auc']:.3f}")
    curve = page.get_by_role("img", name="Held-out AUC per learn run against the decisions learned from")
    expect(curve.locator("circle.candidate-point.promoted")).to_have_count(1)
    expect(curve.locator("circle.candidate-point title")).to_contain_text("120 decisions")
    page.screenshot(path=screenshots / "14-console-model.png", full_page=True)

    # Roll back and promote again: the same audited pointer moves as `moderation models rollback/promote`.
    page.get_by_role("button", name="Roll back to the shipped model").click()
    expect(page.locator(".flash-success")).to_contain_text("the shipped model is live again")
    expect(page.locator("#live-version")).to_have_text(model.version)
    assert registry.pointers()[0] is None

    page.get_by_role("button", name=f"Promote {candidate}").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{candidate} is live")
    expect(page.locator("#live-version")).to_have_text(candidate)
    assert registry.pointers()[0] == candidate
    expect(page.locator(".model-history")).to_contain_text(f"root promoted {candidate}")
    audit = [fields for _, fields in store.redis.xrange(store.keys.policy_audit)]
    assert [(e["event"], e["actor"]) for e in audit] == [
        ("model_promote", "learn:nightly"), ("model_rollback", "root"), ("model_promote", "root"),
    ]


@pytest.fixture
def registered(registry: ModelRegistry, tmp_path: Path) -> str:
    """The shipped artifact registered as a version of its own (no learn run needed)."""
    target = tmp_path / "artifact" / DEFAULT_MODEL_PATH.name
    target.parent.mkdir()
    shutil.copy(DEFAULT_MODEL_PATH, target)
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), target.with_suffix(".json"))
    return registry.register(target)


def test_a_moderator_who_is_not_an_admin_neither_sees_nor_uses_it(
    page: Page, server: Server, registry: ModelRegistry, moderators: Moderators, registered: str,
    sign_in: SignIn, app: Flask,
) -> None:
    sign_in(page, moderators.add("alice", "moderator"), "/console/")
    expect(page.get_by_role("link", name="Pending")).to_be_visible()
    expect(page.get_by_role("link", name="Model")).to_have_count(0)
    response = page.goto(server("/console/model"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_contain_text("Forbidden")

    # Nor by posting the forms with her own valid session and CSRF token.
    console = FlaskClient(app, use_cookies=True)
    csrf = signed_in(console, moderators.add("bob", "moderator"))
    assert console.post("/console/model/promote", data={"csrf_token": csrf, "version": registered}).status_code == 403
    assert console.post("/console/model/rollback", data={"csrf_token": csrf}).status_code == 403
    assert registry.pointers() == (None, None)


def test_model_forms_need_the_csrf_token_and_a_registered_version(app: Flask, registry: ModelRegistry,
                                                                   moderators: Moderators, registered: str) -> None:
    console = FlaskClient(app, use_cookies=True)
    csrf = signed_in(console, moderators.add("root", "admin"))
    assert console.get("/console/model").status_code == 200
    for data in ({"version": registered}, {"version": registered, "csrf_token": "forged"}):
        assert console.post("/console/model/promote", data=data).status_code == 400
        assert console.post("/console/model/rollback", data={k: v for k, v in data.items() if k != "version"}
                            ).status_code == 400
    assert registry.pointers() == (None, None)
    answer = console.post("/console/model/promote", data={"csrf_token": csrf, "version": "2026.01.01-00000000"})
    assert answer.status_code == 303
    assert "No registered model has that version" in console.get("/console/model").get_data(as_text=True)
    assert registry.pointers() == (None, None)
    assert console.post("/console/model/promote", data={"csrf_token": csrf, "version": registered}).status_code == 303
    assert registry.pointers() == (registered, None)
