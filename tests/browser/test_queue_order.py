"""The console's queue order in a real browser: nearest the hold thresholds first, for reading and for claims."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore
from tests.test_queue_order import add

from .support import Server, SignIn


def test_a_moderator_reads_and_claims_the_comments_nearest_the_threshold_first(
    page: Page, server: Server, store: CommentStore, moderators: Moderators, sign_in: SignIn, screenshots: Path,
) -> None:
    PolicyStore(store.redis, store.keys).update({"spam_hold": 0.5, "abuse_hold": 0.5}, "test")
    scores = [(0.02, 0.01), (0.48, 0.1), (0.9, 0.05), (0.1, 0.53), (0.3, 0.2), (0.05, 0.97), (0.6, 0.1)]
    ids = [add(store, spam, abuse, body=f"Comment number {n}") for n, (spam, abuse) in enumerate(scores)]
    nearest = [ids[i] for i in (1, 3, 6, 4, 2, 5, 0)]  # distances .02, .03, .1, .2, .4, .47, .48

    sign_in(page, moderators.add("alice", "moderator"), "/console/")
    items = page.locator("article.item")
    expect(items).to_have_count(7)
    assert [i.get_attribute("id") for i in items.all()] == [f"c-{i}" for i in ids]  # oldest first

    page.get_by_label("Order").select_option(label="Nearest the threshold first")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{server('/console/')}?queue=pending&reason=&language=&sort=uncertain&article=")
    expect(items).to_have_count(7)
    assert [i.get_attribute("id") for i in items.all()] == [f"c-{i}" for i in nearest]
    page.screenshot(path=screenshots / "15-console-queue-uncertain.png")

    page.get_by_label("Claim the next").select_option("5")
    page.get_by_role("button", name="Claim next batch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My batch")
    expect(items).to_have_count(5)
    assert [i.get_attribute("id") for i in items.all()] == [f"c-{i}" for i in nearest[:5]]
