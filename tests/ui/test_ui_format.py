"""Pure formatting for the UI: turns -> Gradio messages, slate cards, API JSON. Guards escaping."""

from __future__ import annotations

from workbench.catalog import Item
from workbench.dialogue.types import Recommendation, Turn
from workbench.ui.format import card_html, escape_text, format_sources, slate_to_json, turns_to_messages

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('x')</script>"


def test_turns_become_messages_in_order_with_roles():
    turns = [Turn("user", "hi"), Turn("assistant", "hello"), Turn("user", "more")]
    assert turns_to_messages(turns) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "more"},
    ]


def test_html_in_messages_is_escaped_so_it_shows_as_text():
    """Regression guard: a user's tag must be displayed, never handed to the page as markup."""
    (msg,) = turns_to_messages([Turn("user", f"look {XSS} & {SCRIPT}")])
    assert "<img" not in msg["content"] and "<script" not in msg["content"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in msg["content"]
    assert "&amp;" in msg["content"]


def test_escape_keeps_markdown_but_not_tags():
    assert escape_text("**Heat** (1995)") == "**Heat** (1995)"
    assert escape_text("a < b > c") == "a &lt; b &gt; c"


def _evil_rec() -> Recommendation:
    item = Item(
        "x1", f"Evil {XSS}", 1999, (f"Drama{SCRIPT}",), (f"Dir {XSS}",), (f"Actor {XSS}", "B", "C", "D"),
    )
    return Recommendation(item, 1, 0.5, {f"src{XSS}": 0.25}, f"because {XSS}")


def test_card_escapes_every_catalogue_field_and_the_reason():
    html = card_html(_evil_rec())
    assert "<img" not in html and "<script" not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 4  # title, director, cast, reason, source


def test_card_shows_title_year_genres_director_cast_reason_and_scores():
    item = Item("3", "Heat", 1995, ("Crime", "Thriller"), ("Michael Mann",),
                ("Al Pacino", "Robert De Niro", "Val Kilmer", "Jon Voight"))
    rec = Recommendation(item, 2, 0.8123, {"cf": 0.5, "dense": 0.9}, "because you liked Collateral")
    html = card_html(rec)
    for text in ("Heat", "(1995)", "Crime, Thriller", "Michael Mann", "Al Pacino", "Val Kilmer",
                 "because you liked Collateral", "0.812", "Semantic search", "Collaborative filtering"):
        assert text in html, text
    assert "Jon Voight" not in html  # main cast only
    assert "<details" in html  # scores are collapsible


def test_demo_mode_cards_hide_ids_raw_scores_and_source_tables():
    """Issue 16 item 14: the stakeholder view (WORKBENCH_DEMO_MODE) shows the film and its reason only;
    the annotator view keeps the id, the score and the per-source table."""
    item = Item("redial-3", "Heat", 1995, ("Crime",), ("Michael Mann",), ("Al Pacino",))
    rec = Recommendation(item, 1, 0.8123, {"cf": 0.5, "dense": 0.9}, "because you liked Collateral")
    demo, annotator = card_html(rec, demo=True), card_html(rec)
    for text in ("Heat", "(1995)", "Michael Mann", "because you liked Collateral"):
        assert text in demo
    for internal in ("redial-3", "0.812", "Semantic search", "<table", "<details"):
        assert internal not in demo and internal in annotator


def test_sources_sorted_by_contribution_with_readable_names():
    assert format_sources({"cf": 0.1, "dense": 0.7, "mystery": 0.3, "popularity": 11.0}) == [
        ("Popularity", "11"), ("Semantic search", "0.7"), ("mystery", "0.3"), ("Collaborative filtering", "0.1"),
    ]


def test_slate_json_carries_ids_titles_facts_scores_and_reasons():
    (row,) = slate_to_json([_evil_rec()])
    assert row["item_id"] == "x1" and row["rank"] == 1 and row["year"] == 1999
    assert row["title"].startswith("Evil ") and row["reason"].startswith("because")
    assert row["cast"] == [f"Actor {XSS}", "B", "C"]
    assert row["sources"] == {f"src{XSS}": 0.25}


def test_verdict_buttons_cover_exactly_the_record_labels_in_order():
    """One rule, one place (issue 29): the item labels are declared once, in the record module;
    the UI adds only button text, one button per label, so a new label cannot go unoffered."""
    from workbench.feedback.record import ITEM_LABELS
    from workbench.ui.format import VERDICT_BUTTONS

    assert tuple(VERDICT_BUTTONS) == ITEM_LABELS
    assert all(text.strip() for text in VERDICT_BUTTONS.values())
