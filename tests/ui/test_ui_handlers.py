"""UI handlers as plain functions over fake services (scripted engine, real feedback store).

Guards: streaming into a session, saving/auto-saving/undo never losing or duplicating
judgements, reply likes, settings parsing, slate rendering. (Errors mid-turn, session
isolation, undo/clear and identity without widgets: test_chat.)
"""

from __future__ import annotations

import pytest
from ui_support import make_services, run_turn

from workbench.chat.judgements import UnsavedJudgements, autosave, autosave_on_close, save_pending
from workbench.chat.session import CardJudgement
from workbench.chat.turns import TurnPrefs, clear_conversation, new_session, undo_turn
from workbench.errors import ConfigError, FeedbackError, WorkbenchError
from workbench.limits import MAX_SLATE
from workbench.ui.chat_panel import exchange_for_message, like_reply
from workbench.ui.feedback_panel import save_clicked
from workbench.ui.format import turns_to_messages
from workbench.ui.settings_panel import parse_prefs
from workbench.ui.slate import parse_cards, parse_slate_values, render_slate, sync_judgements


@pytest.fixture
def services(tiny_catalog, tmp_path):
    return make_services(tiny_catalog, tmp_path / "feedback")


run = run_turn  # drive a turn to the end; the reply text seen at each streamed step


def slate_values(comment="", cards=()):
    """Flat widget values as the browser sends them: comment, then verdict/rating per slot."""
    flat = [comment]
    cards = list(cards) + [(None, None)] * (MAX_SLATE - len(cards))
    for verdict, rating in cards:
        flat += [verdict, rating]
    return flat


def stored(services):
    return list(services.store.read())


# -- turns -------------------------------------------------------------------


def test_turn_streams_growing_reply_then_final_result_with_catalogue_items(services, tiny_catalog):
    session = new_session(services)
    seen = run(services, session, "a family film with Tom Hanks")
    assert len(seen) >= 3 and seen[-1].startswith(seen[1])  # text grew piece by piece
    (ex,) = session.exchanges
    assert ex.done and ex.reply == ex.result.reply
    assert len(ex.recommendations) == 3
    assert all(r.item.item_id in tiny_catalog for r in ex.recommendations)
    assert [m["role"] for m in turns_to_messages(session.turns())] == ["user", "assistant"]


def test_settings_reach_the_engine(services):
    session = new_session(services)
    prefs = parse_prefs("template", "", 2, ["comedy"], ["horror"], 1990, 2005)
    run(services, session, "anything", prefs)
    call = services.engine.calls[-1]
    assert call["k"] == 2
    assert call["filters"].genres == {"comedy"} and call["filters"].exclude_genres == {"horror"}
    assert (call["filters"].year_min, call["filters"].year_max) == (1990, 2005)
    for rec in session.exchanges[-1].recommendations:
        assert 1990 <= rec.item.year <= 2005


# -- judgements and saving ------------------------------------------------------


def test_save_writes_one_record_per_turn_with_labels_ratings_and_comment(services, tiny_catalog):
    session = new_session(services)
    run(services, session, "Toy Story")
    recs = session.slate_exchange.recommendations
    values = slate_values("nice picks <b>!</b>", [("like", "5"), ("not_seen", None), (None, "2")])
    _, message = save_clicked(services, session, "ann", None, values)
    assert message == "Saved 4 judgements in 1 record."  # 3 cards + the comment, one record per turn
    (rec,) = stored(services)
    assert rec.annotator == "ann" and rec.turn_index == 0 and rec.session_id == session.session_id
    assert rec.comment == "nice picks <b>!</b>"  # stored verbatim; escaping is the renderer's job
    by_id = {j.item_id: j for j in rec.slate}
    assert (by_id[recs[0].item.item_id].label, by_id[recs[0].item.item_id].rating) == ("like", 5)
    assert by_id[recs[1].item.item_id].label == "not_seen"
    assert by_id[recs[2].item.item_id].rating == 2
    assert rec.catalog_hash == tiny_catalog.content_hash and rec.index_id == "test-index"
    assert rec.reply == session.slate_exchange.reply and rec.user_message == "Toy Story"
    assert rec.generator_backend == "template"


def test_saving_twice_does_not_duplicate_and_a_change_is_a_new_record(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    values = slate_values(cards=[("like", None)])
    save_clicked(services, session, "ann", None, values)
    _, message = save_clicked(services, session, "ann", None, values)
    assert message == "Nothing new to save."
    assert len(stored(services)) == 1
    save_clicked(services, session, "ann", None, slate_values(cards=[("dislike", None)]))
    assert [r.slate[0].label for r in stored(services)] == ["like", "dislike"]


def test_concurrent_saves_write_each_judgement_once(services):
    """A Save click racing an auto-save on send (or a double click) must not duplicate records."""
    import threading

    session = new_session(services)
    run(services, session, "Toy Story")
    sync_judgements(session, slate_values(cards=[("like", "5")]))
    start = threading.Barrier(8)

    def save():
        start.wait()
        save_pending(services, session, "ann")

    threads = [threading.Thread(target=save) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stored(services)) == 1 and session.pending_count == 0


def test_save_without_identity_warns_and_keeps_judgements(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    with pytest.raises(FeedbackError, match="enter your name"):
        save_clicked(services, session, "  ", None, slate_values(cards=[("like", "4")]))
    assert stored(services) == []
    assert session.pending_count == 1
    save_clicked(services, session, "ann", None, slate_values(cards=[("like", "4")]))
    assert len(stored(services)) == 1 and session.pending_count == 0


def test_next_message_autosaves_when_identity_known(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    sync_judgements(session, slate_values(cards=[(None, "3")]))
    note = autosave(services, session, "ann")
    assert note.startswith("Saved 1 feedback record")
    assert len(stored(services)) == 1 and session.pending_count == 0
    assert autosave(services, session, "ann") is None


def test_next_message_without_identity_warns_and_keeps_judgements(services):
    """Unsaved judgements are never silently dropped when the slate moves on."""
    session = new_session(services)
    run(services, session, "Toy Story")
    sync_judgements(session, slate_values(cards=[("dislike", None)]))
    with pytest.raises(UnsavedJudgements, match="1 judgement not saved"):
        autosave(services, session, "")
    run(services, session, "Heat")  # a new slate replaces the old one on screen
    assert session.pending_count == 1
    save_pending(services, session, "ann")
    (rec,) = stored(services)
    assert rec.turn_index == 0 and rec.slate[0].label == "dislike"


def test_judgements_on_an_undone_turn_stay_saveable(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    sync_judgements(session, slate_values(cards=[("like", None)]))
    undo_turn(session)
    clear_conversation(services, session)
    assert save_pending(services, session, "ann") == 1
    assert stored(services)[0].user_message == "Toy Story"


def test_reply_like_maps_message_index_to_its_turn(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    run(services, session, "Heat")
    ex = like_reply(session, 3, True)  # messages: u0 a0 u1 a1
    assert ex is session.exchanges[1]
    like_reply(session, 1, False)
    assert exchange_for_message(session, 0) is session.exchanges[0]
    assert save_pending(services, session, "ann") == 2
    labels = {r.turn_index: r.reply_label for r in stored(services)}
    assert labels == {0: "dislike", 1: "like"}


def test_reply_like_removed_is_not_saved(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    like_reply(session, 1, True)
    like_reply(session, 1, "")  # the browser sends "" when a like is toggled off
    assert session.pending_count == 0
    with pytest.raises(WorkbenchError):
        exchange_for_message(session, 7)


def test_invalid_judgement_saves_nothing(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    with pytest.raises(WorkbenchError, match="card 2: rating must be 1-5"):
        save_clicked(services, session, "ann", None, slate_values(cards=[("like", None), (None, "9")]))
    assert stored(services) == []


def test_closing_a_tab_saves_pending_judgements_of_a_known_annotator(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    sync_judgements(session, slate_values(cards=[("like", None)]))
    autosave_on_close(services, session)  # no identity yet: nothing to attribute
    assert stored(services) == []
    session.annotator = "ann"
    autosave_on_close(services, session)
    assert len(stored(services)) == 1
    autosave_on_close(services, None)  # a tab that never chatted


# -- parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("nope", "", 3, [], [], None, None), "generator backend"),
        (("auto", "", 0, [], [], None, None), "number of recommendations"),
        (("auto", "", 11, [], [], None, None), "number of recommendations"),
        (("auto", "", 3, ["westerns!"], [], None, None), "unknown genre"),
        (("auto", "", 3, [], [], 2010, 1990), "is after"),
        (("auto", "", 3, [], [], 1200, None), "Released from"),
        (("auto", "", 3, [], [], "", "ninety"), "Released until: expected a year"),
        (("auto", "", 3, [], [], "0", ""), "Released from: year must be"),
    ],
)
def test_bad_settings_are_named(args, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_prefs(*args)


def test_empty_filters_mean_no_filter():
    assert parse_prefs("auto", "", 4, [], [], None, None) == TurnPrefs("auto", "", 4, None)
    # what an untouched (or cleared) year textbox sends: no limit, not an error (issue 16 item 1)
    assert parse_prefs("auto", "", 4, [], [], "", "  ") == TurnPrefs("auto", "", 4, None)
    assert parse_prefs("auto", "", 4, [], [], " 1990 ", "").filters.year_min == 1990


def test_year_fields_are_not_number_boxes_gradio_rejects_when_empty(services):
    """Regression (issue 16 item 1): gr.Number shows empty as 0 and then fails every turn with a bare
    "Error" (``Value 0 is less than minimum value 1900``); the year fields are textboxes parsed by us."""
    import gradio as gr

    from workbench.ui.settings_panel import build_settings_panel

    with gr.Blocks():
        panel = build_settings_panel(services)
    for field in (panel.year_from, panel.year_to):
        assert isinstance(field, gr.Textbox) and field.value == ""
        assert field.preprocess("") == ""  # what the untouched field sends passes Gradio
    assert parse_prefs(*[c.value for c in panel.inputs]).filters is None


def test_cards_parse_and_reject_rating_an_unseen_film():
    assert parse_cards(["like", "4", None, None]) == [CardJudgement("like", 4), CardJudgement()]
    with pytest.raises(WorkbenchError, match="card 1: an item you haven't seen cannot be rated"):
        parse_cards(["not_seen", "3"])
    with pytest.raises(WorkbenchError, match="verdict"):
        parse_cards(["love", None])
    with pytest.raises(WorkbenchError, match="limit"):
        parse_slate_values(["x" * 5000, None, None])


# -- slate ----------------------------------------------------------------------------


def test_slate_shows_one_card_per_item_and_hides_the_rest(services):
    out = render_slate(None)
    assert "Recommendations" in out[0]
    session = new_session(services)
    run(services, session, "Toy Story", TurnPrefs(k=4))
    out = render_slate(session)
    header, _chips, _empty, _comment, *cards = out
    assert "turn 1" in header
    slots = [cards[i:i + 4] for i in range(0, len(cards), 4)]
    assert len(slots) == MAX_SLATE
    visible = [s for s in slots if s[0]["visible"]]
    assert len(visible) == 4
    for (_, html, verdict, rating), rec in zip(visible, session.slate_exchange.recommendations, strict=True):
        assert rec.item.title in html and verdict is None and rating is None


def test_slate_shows_saved_judgements_back(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    save_clicked(services, session, "ann", None, slate_values("ok", [("like", "5")]))
    header, _chips, _empty, comment, _group, _html, verdict, rating, *_ = render_slate(session)
    assert "saved" in header and verdict == "like" and rating == "5" and comment["value"] == "ok"


# -- a generator that falls back mid-stream ---------------------------------------


class HalfWrittenLLM:
    """Writes a (false) sentence and half another, then fails: the double for a model that stops mid-reply."""

    name = "fake:half-llm"

    def stream(self, request):
        yield "Heat is a great pick for you. It "
        raise ConnectionError("the model stopped (test)")

    def generate(self, request):
        return "".join(self.stream(request))


def test_midway_fallback_replaces_the_streamed_text_and_ends_with_the_result(
    tiny_catalog, hash_embedder, tmp_path, monkeypatch
):
    """Regression (issue 16 item 2): the half-written LLM reply stayed on screen with the template
    reply appended under it. The streamed text is replaced, and the finished turn shows its result."""
    from tests.dialogue_fixtures import tiny_engine
    from workbench.dialogue.generators.fallback import FALLBACK_NOTICE_MIDWAY, FallbackGenerator
    from workbench.services import GeneratorChoice

    services = make_services(tiny_catalog, tmp_path / "feedback")
    services.engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    llm = FallbackGenerator(HalfWrittenLLM())
    monkeypatch.setattr(services.generators, "choose",
                        lambda backend, model: GeneratorChoice(llm, llm.name, True))
    session = new_session(services)
    seen = run(services, session, "I loved Heat")
    (ex,) = session.exchanges
    assert ex.result.fell_back
    assert any("great pick" in s for s in seen)  # it did stream the LLM's half sentence first
    after = seen[next(i for i, s in enumerate(seen) if FALLBACK_NOTICE_MIDWAY in s):]
    assert all("great pick" not in s for s in after)  # replaced on screen as soon as it fell back
    assert "great pick" not in ex.reply and ex.reply.startswith(FALLBACK_NOTICE_MIDWAY)
    assert ex.reply.strip() == seen[-1].strip()
    assert any(r.item.display_title in ex.reply for r in ex.recommendations)
    assert turns_to_messages(session.turns())[-1]["content"].startswith("(The language model stopped early")


def test_a_long_message_is_refused_whole_with_the_limit_never_cut(services):
    """Regression (issue 16 item 10): the textbox silently cut a 5,000-character message to 2,000.
    The box no longer cuts; the counter and the refusal name the one limit (MAX_MESSAGE_CHARS)."""
    import gradio as gr

    from workbench.chat.turns import check_message
    from workbench.limits import MAX_MESSAGE_CHARS
    from workbench.ui.chat_panel import COUNTER_JS, build_chat_panel

    with gr.Blocks():
        panel = build_chat_panel()
    assert panel.message.max_length is None  # a browser maxlength would cut a paste without a word
    assert f"limit = {MAX_MESSAGE_CHARS};" in COUNTER_JS
    with pytest.raises(WorkbenchError, match=f"5,000 characters; the limit is {MAX_MESSAGE_CHARS:,}"):
        check_message("x" * 5000)
    assert check_message("x" * MAX_MESSAGE_CHARS) == "x" * MAX_MESSAGE_CHARS


def test_each_card_control_can_be_cleared_and_the_rules_are_shown(services):
    """Regression (issue 16 item 12): a chosen verdict or rating could only be changed, never cleared."""
    from workbench.ui.slate import CARD_RULES, cleared

    session = new_session(services)
    run(services, session, "a family film")
    ex = session.slate_exchange
    values = slate_values(cards=[("like", "4"), ("not_seen", None)])
    sync_judgements(session, values)
    first, second = (r.item.item_id for r in ex.recommendations[:2])
    assert session.judgement(ex).item(first) == CardJudgement("like", 4)
    values = cleared(values, 0, "rating")
    sync_judgements(session, values)
    assert session.judgement(ex).item(first) == CardJudgement("like", None)
    values = cleared(cleared(values, 0, "verdict"), 1, "verdict")
    sync_judgements(session, values)
    assert session.judgement(ex).item(first) == CardJudgement() == session.judgement(ex).item(second)
    assert session.judgement(ex).count == 0
    with pytest.raises(ValueError):
        cleared(values, MAX_SLATE, "rating")
    assert "Haven't seen it" in CARD_RULES and "clears" in CARD_RULES


def test_removing_a_constraint_chip_changes_the_next_turn(tiny_catalog, hash_embedder, tmp_path):
    """Regression (issue 16 item 11): constraints (a decade, no animation, a person) carried over
    silently. They are shown as chips; removing one changes the next turn's slate."""
    from tests.dialogue_fixtures import tiny_engine
    from workbench.chat.turns import active_constraints, remove_constraint
    from workbench.ui.slate import constraint_chips

    services = make_services(tiny_catalog, tmp_path / "feedback")
    services.engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    kept, removed = new_session(services), new_session(services)
    for session in (kept, removed):
        services.engine.respond(session.conversation, "no horror please, something from the 90s")
    labels = [c.label for c in active_constraints(removed)]
    assert labels == ["no horror", "1990-1999"]
    chips = constraint_chips(removed)
    assert chips["visible"] and chips["value"] == ["no-genre:horror", "years"]
    remove_constraint(removed, "years")
    assert [c.label for c in active_constraints(removed)] == ["no horror"]
    with pytest.raises(WorkbenchError, match="no constraint"):
        remove_constraint(removed, "years")
    slate_kept = services.engine.respond(kept.conversation, "more please").recommendations
    slate_removed = services.engine.respond(removed.conversation, "more please").recommendations
    assert all(1990 <= r.item.year <= 1999 for r in slate_kept)
    assert any(not 1990 <= r.item.year <= 1999 for r in slate_removed)
    assert all("Horror" not in r.item.genres for r in slate_removed)  # the other chip still applies
    assert not constraint_chips(None)["visible"]


def test_demo_mode_setting_reaches_the_slate_cards(services):
    """Issue 16 item 14: WORKBENCH_DEMO_MODE=1 renders the cards without ids, scores and source tables."""
    from workbench.config import Settings

    assert Settings.from_env({"WORKBENCH_DEMO_MODE": "1"}).demo_mode and not Settings().demo_mode
    session = new_session(services)
    run(services, session, "Toy Story")
    demo_html, annotator_html = render_slate(session, demo=True)[5], render_slate(session)[5]
    assert "wb-scores" not in demo_html and "data-item-id" not in demo_html
    assert "wb-scores" in annotator_html and "data-item-id" in annotator_html


def _handler(demo, name):
    """The event handler called ``name`` in ``demo`` (the first one; they are wired once)."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_pending_line_after_the_autosave_on_send_is_the_stores_truth(services):
    """Issue 16 item 7: after the auto-save on the next message the line still said
    "3 judgements unsaved" though they were in the shard; it follows every save now."""
    from workbench.ui import build_demo

    demo = build_demo(services)
    send = _handler(demo, "send")
    session = new_session(services)
    run(services, session, "Toy Story")
    values = slate_values("good turn", cards=[("like", None), (None, 4)])
    sync_judgements(session, values)
    assert session.pending_count == 3
    prefs = ("template", "", 3, [], [], "", "")
    updates = list(send(None, None, "and something else", session, "ann", *prefs, *values))
    assert len(stored(services)) == 1  # the auto-save wrote them
    pending_line = updates[-1][-1]
    assert isinstance(pending_line, str) and "unsaved" not in pending_line and "All saved" in pending_line


def test_one_click_picks_another_film_of_an_ambiguous_name(tiny_catalog, tmp_path):
    """Issue 16 item 8: "I took "Heat" as Heat (1995)" can be corrected with one click: the other
    film of that name is offered, and picking it runs the message again with "Heat (1986)"."""
    from ui_support import real_engine_services

    from workbench.chat.turns import reread_title, stream_turn
    from workbench.ui.chat_panel import readings_update
    from workbench.ui.format import parse_reading_choice

    services = real_engine_services(tiny_catalog, tmp_path / "feedback")
    session = new_session(services)
    prefs = TurnPrefs(backend="", model="", k=3)
    *_, (first, _) = stream_turn(services, session, "I loved Heat, more like it", prefs)
    assert any('I took "Heat" as Heat (1995)' in n for n in first.result.notes)
    (reading,) = first.result.readings
    assert (reading.surface, reading.chosen, reading.alternatives) == ("Heat", "3", ("4",))
    radio = readings_update(services, session)
    assert radio["visible"] and radio["choices"] == [("“Heat” → Heat (1986)", "8:12:4")]

    with pytest.raises(WorkbenchError, match="cannot be read as item '5'"):
        reread_title(services, session, reading.span, "5")  # not a reading of "Heat": nothing undone
    assert len(session.exchanges) == 1

    message = reread_title(services, session, *parse_reading_choice("8:12:4"))
    assert message == "I loved Heat (1986), more like it" and not session.exchanges
    *_, (again, _) = stream_turn(services, session, message, prefs)
    assert not again.result.readings and not any("I took" in n for n in again.result.notes)
    assert session.conversation.liked == ["4"]  # the film the user meant, not the popular one
    assert not readings_update(services, session)["visible"]
