"""The console's language filter and each comment's language, in a real browser."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from moderation.comments import NewComment, Origin, new_comment_id
from moderation.moderators import Moderators
from moderation.policy import Assessment, Decision, Reason
from moderation.store import CommentStore

from .support import Server, SignIn


def add(store: CommentStore, body: str, language: str, reasons: tuple[Reason, ...] = (Reason("new_author"),)) -> str:
    comment_id, created_at = new_comment_id()
    comment = NewComment(comment_id, created_at, "a1", None, "Ann", "ann@example.com", "k1", body,
                         Origin("192.0.2.1", "UA", ""), language=language)
    supported = language in ("en", "de")
    return store.submit(comment, Assessment(0.1, 0.2, language=language, language_supported=supported),
                        Decision("pending", reasons), "test-model").id


def test_a_moderator_filters_the_queue_by_language(
    page: Page, server: Server, store: CommentStore, moderators: Moderators, sign_in: SignIn, screenshots: Path,
) -> None:
    english = add(store, "A fair point about the budget.", "en")
    german = add(store, "Ein guter Punkt zum Haushalt der Stadt.", "de")
    spanish = add(store, "Un buen punto sobre el presupuesto.", "es", (Reason("unsupported_language", detail="es"),))

    sign_in(page, moderators.add("alice", "moderator"), "/console/")
    items = page.locator("article.item")
    expect(items).to_have_count(3)
    expect(page.locator(f"#c-{german} .language")).to_have_text("German")
    expect(page.locator(f"#c-{spanish} .language")).to_contain_text("Spanish")
    expect(page.locator(f"#c-{spanish} .language-note")).to_contain_text("does not know it")
    expect(page.locator(f"#c-{spanish} .reason-unsupported_language")).to_contain_text(
        "Language the model does not know Spanish")

    language = page.get_by_label("Language", exact=True)
    # The model's languages first, then the others comments came in.
    assert language.locator("option").all_inner_texts()[:2] == ["Any language", "English"]
    assert "Spanish" in language.locator("option").all_inner_texts()
    language.select_option(label="German")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{server('/console/')}?queue=pending&reason=&language=de&sort=&article=")
    expect(items).to_have_count(1)
    assert items.first.get_attribute("id") == f"c-{german}"
    expect(page.get_by_label("Language", exact=True)).to_have_value("de")
    page.screenshot(path=screenshots / "30-console-queue-language.png")

    page.get_by_role("link", name="Clear filters").click()
    expect(items).to_have_count(3)
    assert [i.get_attribute("id") for i in items.all()] == [f"c-{english}", f"c-{german}", f"c-{spanish}"]

    page.goto(server("/console/?language=es"))
    expect(items).to_have_count(1)
    assert items.first.get_attribute("id") == f"c-{spanish}"
    assert page.goto(server("/console/?language=klingonish")).status == 400  # type: ignore[union-attr]
