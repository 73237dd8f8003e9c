"""Pure formatting: our turns and recommendations -> what Gradio components display.

Everything a user, a catalogue file or a generator wrote is escaped here before
it reaches the page, so HTML or script in a message, a title or a comment is
shown as text and never executed. The chat widget additionally runs its own
sanitiser (``sanitize_html=True``); escaping first means a payload such as
``<img src=x onerror=alert(1)>`` is *displayed* rather than silently dropped.

It knows our value types and HTML; it does not import gradio or call the core.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workbench.catalog import Catalog
from workbench.dialogue.types import Recommendation, TitleReading, Turn

#: How many cast members a slate card shows.
CARD_CAST = 3

#: Human names for per-source scores (unknown sources show their raw key).
#: Button text for each item label (the labels themselves: :data:`~workbench.feedback.record.ITEM_LABELS`).
VERDICT_BUTTONS = {"like": "👍 Like", "dislike": "👎 Dislike", "not_seen": "Haven't seen it"}

SOURCE_LABELS = {
    "recommender": "Recommender (hybrid)",
    "cf": "Collaborative filtering",
    "knn": "Item neighbours (kNN)",
    "content": "Content similarity",
    "dense": "Semantic search",
    "lexical": "Keyword match",
    "attribute": "Matches what you asked",
    "prior": "Popularity prior",
    "popularity": "Popularity",
    "hybrid": "Hybrid",
}


def escape_text(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so markdown/HTML renderers show ``text`` literally."""
    return html.escape(text, quote=False)


def turns_to_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """Our :class:`Turn` list -> Gradio ``Chatbot`` messages (``{"role", "content"}`` dicts).

    Texts are HTML-escaped (markdown still renders), so a user who types a tag
    sees the tag. Message ``i`` corresponds to ``turns[i]``: the mapping the
    like/undo handlers rely on.
    """
    return [{"role": t.role, "content": escape_text(t.text)} for t in turns]


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _join(values: Iterable[str], limit: int | None = None) -> str:
    vals = [v for v in values if v]
    if limit is not None and len(vals) > limit:
        vals = vals[:limit] + ["…"]
    return ", ".join(vals)


def format_sources(sources: Mapping[str, float]) -> list[tuple[str, str]]:
    """``[(label, "0.812"), ...]`` sorted by value (3 significant digits), for the score detail."""
    rows = sorted(sources.items(), key=lambda kv: (-float(kv[1]), kv[0]))
    return [(SOURCE_LABELS.get(k, k), f"{float(v):.3g}") for k, v in rows]


def card_html(rec: Recommendation, *, saved: bool = False, demo: bool = False) -> str:
    """One slate card: title, year, genres, director, main cast, reason, per-source scores.

    Every catalogue field and the reason are escaped. ``demo`` (the stakeholder view,
    ``Settings.demo_mode``) leaves out the internal item id, the raw score and the per-source table.
    """
    item = rec.item
    e = _attr
    year = f' <span class="wb-year">({item.year})</span>' if item.year else ""
    genres = _join(item.genres)
    lines = [
        '<div class="wb-card">' if demo else '<div class="wb-card" data-item-id="' + e(item.item_id) + '">',
        '<div class="wb-card-head">'
        f'<span class="wb-rank">{int(rec.rank)}</span>'
        f'<span class="wb-title">{e(item.title)}</span>{year}'
        + ('<span class="wb-saved" title="saved">saved ✓</span>' if saved else "")
        + "</div>",
    ]
    if genres:
        lines.append(f'<div class="wb-genres">{e(genres)}</div>')
    people = []
    if item.directors:
        people.append(f"<b>Director</b> {e(_join(item.directors, 2))}")
    if item.cast:
        people.append(f"<b>Cast</b> {e(_join(item.cast, CARD_CAST))}")
    if people:
        lines.append('<div class="wb-people">' + " · ".join(people) + "</div>")
    if rec.reason:
        lines.append(f'<div class="wb-reason">{e(rec.reason)}</div>')
    if demo:
        lines.append("</div>")
        return "".join(lines)
    rows = "".join(f"<tr><td>{e(label)}</td><td>{e(value)}</td></tr>" for label, value in format_sources(rec.sources))
    lines.append(
        '<details class="wb-scores"><summary>Score '
        f"{float(rec.score):.3f}</summary>"
        + (f"<table>{rows}</table>" if rows else "<p>No per-source scores.</p>")
        + "</details>"
    )
    lines.append("</div>")
    return "".join(lines)


def slate_to_json(recommendations: Sequence[Recommendation]) -> list[dict[str, Any]]:
    """The slate as JSON-ready dicts (API output): ids, titles, facts, scores, reasons."""
    out = []
    for rec in recommendations:
        d = rec.to_dict()
        d.update(
            {
                "year": rec.item.year,
                "genres": list(rec.item.genres),
                "directors": list(rec.item.directors),
                "cast": list(rec.item.cast[:CARD_CAST]),
            }
        )
        out.append(d)
    return out


def readings_to_json(catalog: Catalog, readings: Sequence[TitleReading]) -> list[dict[str, Any]]:
    """Ambiguous titles of the last message (API output): what was taken, and the other films meant."""
    def named(item_id: str) -> dict[str, str]:
        return {"item_id": item_id, "title": catalog[item_id].display_title}

    return [{"surface": r.surface, "span": list(r.span), "chosen": named(r.chosen),
             "alternatives": [named(i) for i in r.alternatives]} for r in readings]


def reading_choices(catalog: Catalog, readings: Sequence[TitleReading]) -> list[tuple[str, str]]:
    """Radio choices for one-click corrections: label '"Heat" → Heat (2006)', value 'start:end:item_id'."""
    return [(f"“{r.surface}” → {catalog[i].display_title}", f"{r.span[0]}:{r.span[1]}:{i}")
            for r in readings for i in r.alternatives]


def parse_reading_choice(value: str) -> tuple[tuple[int, int], str]:
    """The span and item id of a :func:`reading_choices` value."""
    start, end, item_id = str(value).split(":", 2)
    return (int(start), int(end)), item_id


def status_markdown(parts: Sequence[str]) -> str:
    """A one-line status (parts joined by `` · ``), escaped."""
    return " · ".join(escape_text(p) for p in parts if p)


#: How the status line names each kind of grounding fix (``TurnResult.grounding_fixes_by_kind``).
FIX_KINDS = {
    "title": "title(s) not on the slate removed",
    "person": "wrong director/cast claim(s) corrected or dropped",
    "year": "wrong year claim(s) corrected or dropped",
    "genre": "wrong genre claim(s) dropped",
    "plot": "invented plot description(s) cut or dropped",
    "echo": "sentence(s) echoing the instructions dropped",
    "repeat": "repeated sentence(s) dropped",
    "emptied": "reply replaced by the template reply (nothing true was left)",
    "link": "sentence(s) with a link, e-mail address or phone number dropped",
    "shop": "sentence(s) about shops, streaming services or prices dropped",
    "instruction": "sentence(s) of instruction or role text dropped",
    "cut": "cut-off sentence(s) or unbalanced brackets dropped",
    "off_task": "sentence(s) answering a message nobody sent dropped",
    "unchecked": "sentence(s) about awards, box office, reviews or release dates (not in the catalogue) dropped",
    "replaced": "reply replaced by the template reply (it said nothing about films or ignored the question)",
}


def grounding_note(total: int, by_kind: Mapping[str, int]) -> str:
    """One status-line phrase for a turn's grounding fixes, by kind when known."""
    parts = [f"{n} {FIX_KINDS.get(kind, kind)}" for kind, n in by_kind.items() if n]
    return "grounding: " + "; ".join(parts) if parts else f"grounding: {total} fix(es) in the reply"
