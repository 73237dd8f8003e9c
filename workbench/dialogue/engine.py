"""The chat engine: one user message in, grounded reply text and a slate out.

A turn reads top to bottom: the :class:`~workbench.dialogue.understand.Understander` reads the
message and the session's :class:`~workbench.dialogue.state.ConversationState` takes it in; the
:class:`~workbench.dialogue.ranker.Ranker` ranks the catalogue for that state; the
:class:`~workbench.dialogue.explain.Explainer` gives each slate item a reason from catalogue
facts; a generator writes the reply around the slate, behind a
:class:`~workbench.dialogue.generators.fallback.FallbackGenerator` (the one deadline: an LLM that
fails or times out is replaced by the template generator, and the turn says so); the
:class:`~workbench.dialogue.grounding.Grounder` releases only text whose titles are on the slate.
The slate is always the ranker's, never parsed from text.

The engine holds no per-user data: every call gets the state it works on, and the state is
changed only when a turn completes. One engine serves many sessions concurrently.

It knows its components and the turn's order; it does not know how any of them works inside, or gradio.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from workbench.catalog import Catalog
from workbench.dialogue.answers import build_answer, states_answer
from workbench.dialogue.explain import Explainer, slate_summary
from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.dialogue.generators.fallback import FALLBACK_NOTICE_MIDWAY, FallbackGenerator
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.intents import (
    FACT_ATTRIBUTES,
    FOLLOW_UP_RE,
    POINTING_INTENTS,
    QUESTION_INTENTS,
    wants_more,
)
from workbench.dialogue.prompts import INSTRUCTIONS
from workbench.dialogue.question import Question, QuestionPolicy, answered_filter, asked_attributes
from workbench.dialogue.ranker import (  # noqa: F401 (re-exported)
    CANDIDATE_POOL,
    SEARCH_POOL,
    Candidates,
    EngineWeights,
    Ranker,
    RecommenderLike,
    Retriever,
    catalog_popularity,
)
from workbench.dialogue.replay import observe
from workbench.dialogue.state import ConversationState, TurnLog
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.types import (  # noqa: F401 (re-exported)
    Answer,
    Recommendation,
    TitleReading,
    Turn,
    TurnResult,
)
from workbench.dialogue.understand import Understander, Understanding
from workbench.errors import DialogueError
from workbench.filters import ItemFilter
from workbench.limits import MAX_MESSAGE_CHARS, MAX_SLATE_ITEMS, MAX_TEXT_CHARS  # noqa: F401 (MAX_MESSAGE_CHARS re-exported)
from workbench.scored import ScoredItems
from workbench.text import check_message

#: Intents that produce a new slate.
#: The note of a turn whose reply left out the catalogue's answer to the user's question.
_UNANSWERED_NOTE = "The reply did not state the catalogue's answer; the template answer is shown instead."
SLATE_INTENTS = frozenset({"recommend", "more_like", "refine", "feedback", "seen", "not_seen"})
#: The act of a reply with no slate and no answer, by intent (see :data:`workbench.dialogue.types.ACTS`).
_SOCIAL_ACTS = {"greeting": "greet", "thanks_bye": "close", "capabilities": "introduce", "other": "ask"}
#: Acts the template writes even when an LLM is on: short fixed replies with no slate, where a small LLM
#: only added risk (the demo showed "thanks" answered with film talk that grounding then emptied).
_TEMPLATE_ACTS = frozenset({"greet", "close", "introduce"})
#: Merged candidates kept in the turn log.
LOGGED_CANDIDATES = 20
#: Ends a reply cut to ``MAX_TEXT_CHARS`` (what the feedback store keeps).
TRUNCATION_MARK = " […]"


class ChatEngine:
    """Grounded conversational recommendations over one catalogue.

    Args:
        catalog: the items.
        retriever: free-text search (``search(query, k, filters, exclude)``); ``None`` to skip.
        recommender: history-based scorer (``recommend(history, k, exclude=, filters=)``); ``None``
            to skip.
        generator: the default reply writer; ``None`` means the template generator. One that is
            not a :class:`FallbackGenerator` is wrapped in one with ``timeout_s``.
        k: slate size.
        fallback: the generator class (or instance) that answers when an LLM fails.
        popularity: item id -> count for the prior and for resolving ambiguous names. Defaults to
            the catalogue's ``mentions``; an evaluation passes counts from its training split.
        weights: how the ranker merges its sources.
        timeout_s: seconds an unwrapped generator's reply may take before the fallback answers.
        understander: reads messages; default: one over ``catalog`` and ``popularity``.
        item_vectors: item embeddings for the ranker's ``history_dense`` source (see :class:`Ranker`).
        ranker: a prebuilt ranker (then ``retriever``, ``recommender``, ``weights``,
            ``popularity`` and ``item_vectors`` are the ranker's own).
        explainer: writes reasons; default: one over ``catalog``.
        grounder: grounds replies in the slate; default: one over ``catalog``.
        titles: the catalogue's :class:`~workbench.dialogue.titles.TitleIndex`, shared by the
            default understander and grounder (the services build it once per catalogue);
            built here when absent.
        questions: the :class:`~workbench.dialogue.question.QuestionPolicy` that decides whether
            a slate turn ends with a question and which; ``True``: one over ``catalog``;
            ``False``: never ask.
    """

    def __init__(
        self,
        catalog: Catalog,
        retriever: Retriever | None,
        recommender: RecommenderLike | None,
        generator: Generator | None = None,
        *,
        k: int = 5,
        fallback: Any = None,
        popularity: Mapping[str, float] | None = None,
        weights: EngineWeights | None = None,
        timeout_s: float = 30.0,
        understander: Understander | None = None,
        item_vectors: Any = None,
        ranker: Ranker | None = None,
        explainer: Explainer | None = None,
        grounder: Grounder | None = None,
        titles: TitleIndex | None = None,
        questions: QuestionPolicy | bool = True,
    ):
        if not 1 <= k <= MAX_SLATE_ITEMS:
            raise DialogueError(f"engine: k must be 1-{MAX_SLATE_ITEMS}, got {k}")
        self.catalog = catalog
        self.k = k
        self.timeout_s = timeout_s
        self.popularity = dict(catalog_popularity(catalog) if popularity is None else popularity)
        if titles is None and (understander is None or grounder is None):
            titles = TitleIndex(catalog)
        self.understander = understander or Understander(catalog, self.popularity, titles=titles)
        self.ranker = ranker or Ranker(catalog, retriever, recommender, understander=self.understander,
                                       weights=weights, popularity=self.popularity, item_vectors=item_vectors)
        self.explainer = explainer or Explainer(catalog)
        self.grounder = grounder or Grounder(catalog, titles, instructions=INSTRUCTIONS)
        fallback = TemplateGenerator if fallback is None else fallback
        self.fallback: Generator = fallback() if isinstance(fallback, type) else fallback
        self.generator: FallbackGenerator = self._guarded(generator if generator is not None else self.fallback)
        self.questions: QuestionPolicy | None = (
            QuestionPolicy(catalog) if questions is True else questions or None)

    # ------------------------------------------------------------------ components
    @property
    def weights(self) -> EngineWeights:
        return self.ranker.weights

    @property
    def retriever(self) -> Retriever | None:
        return self.ranker.retriever

    @property
    def recommender(self) -> RecommenderLike | None:
        return self.ranker.recommender

    @recommender.setter
    def recommender(self, recommender: RecommenderLike | None) -> None:
        """Swap the recommender in (the app fits it in the background while the engine answers)."""
        self.ranker.recommender = recommender

    def with_weights(self, weights: EngineWeights) -> ChatEngine:
        """An engine whose ranker merges sources with other weights (every other part is shared)."""
        return ChatEngine(self.catalog, None, None, self.generator, k=self.k, fallback=self.fallback,
                          popularity=self.popularity, timeout_s=self.timeout_s, understander=self.understander,
                          ranker=self.ranker.with_weights(weights), explainer=self.explainer,
                          grounder=self.grounder, questions=self.questions or False)

    def _guarded(self, generator: Generator) -> FallbackGenerator:
        """``generator`` behind the one deadline-and-fallback layer (the fallback itself runs directly)."""
        return FallbackGenerator.around(generator, self.fallback, timeout_s=self.timeout_s)

    # ------------------------------------------------------------------ state and understanding
    def new_state(self, session_id: str) -> ConversationState:
        """A fresh conversation for ``session_id``."""
        return ConversationState(session_id=session_id)

    def check_message(self, message: str) -> str:
        """``message`` stripped; :func:`workbench.text.check_message` with :class:`DialogueError`."""
        return check_message(message, error=DialogueError)

    def understand(self, state: ConversationState, message: str, linked: Sequence[str] = ()) -> Understanding:
        focus = state.answer_focus() or state.card_focus() or self._pointed_before(state)
        u = self.understander.understand(message, last_slate=state.last_slate, linked=linked, focus=focus)
        return follow_up(u, state)

    def _pointed_before(self, state: ConversationState) -> str | None:
        """The one film the previous user message pointed at, when no slate came since ("tell me about
        the third one" ... "who's in it?"): what a bare "it" means next."""
        if not state.last_slate or (state.log and state.log[-1].slate):
            return None
        previous = next((t.text for t in reversed(state.turns) if t.role == "user"), None)
        if previous is None:
            return None
        u = self.understander.understand(previous, last_slate=state.last_slate)
        return u.refs[0] if len(u.refs) == 1 and u.intent in POINTING_INTENTS else None

    def observe(self, state: ConversationState, role: str, text: str, *, linked: Sequence[str] = ()) -> Understanding:
        """Fold a message into ``state`` without replying (see :func:`workbench.dialogue.replay.observe`)."""
        return observe(self.understander, state, role, text, linked=linked)

    # ------------------------------------------------------------------ ranking (the ranker's)
    def rank(self, state: ConversationState, u: Understanding | None = None, *, k: int | None = None,
             filters: ItemFilter | None = None) -> ScoredItems:
        """The merged, filtered top ``k`` for the state (what a slate is cut from)."""
        return self.ranker.rank(state, u, k=k or self.k, filters=filters)

    def gather(self, state: ConversationState, u: Understanding | None = None, **kwargs: Any) -> Candidates:
        """:meth:`Ranker.gather`: every source's scores for this turn."""
        return self.ranker.gather(state, u, **kwargs)

    def combine(self, cands: Candidates, k: int, weights: EngineWeights | None = None) -> ScoredItems:
        """:meth:`Ranker.combine`: the sources merged, the best ``k`` allowed items."""
        return self.ranker.combine(cands, k, weights)

    # ------------------------------------------------------------------ turns
    def stream(
        self,
        state: ConversationState,
        message: str,
        *,
        k: int | None = None,
        filters: ItemFilter | None = None,
        generator: Generator | None = None,
        linked: Sequence[str] = (),
    ) -> Iterator[str | TurnResult]:
        """Yield grounded reply pieces, then one :class:`TurnResult`.

        ``state`` changes only after the last piece (an abandoned stream leaves it as it was).
        """
        self.check_message(message)
        k = k or self.k
        if not 1 <= k <= MAX_SLATE_ITEMS:
            raise DialogueError(f"k must be 1-{MAX_SLATE_ITEMS}, got {k}")
        work = state.copy()
        work.push_undo()
        u = self.understand(work, message, linked)
        work.apply(u)
        work.add_turn("user", message)
        notes = list(u.notes)
        answer = answer_for(u, self.catalog)
        ranked = u
        if u.intent in QUESTION_INTENTS and wants_more(u.query):  # "who's in it? and more like it"
            ranked = replace(u, intent="more_like", target=u.target) if u.target else replace(u, intent="refine")
        recs, candidates = self._slate(state, work, ranked, k, filters, notes)
        question = self._question(work, ranked, recs, candidates)
        act = reply_act(state, u, recs, answer)
        request = GenerationRequest(turns=tuple(work.turns), recommendations=recs, intent=u.intent,
                                    notes=tuple(notes), question=question.text if question else "",
                                    answer=answer, act=act)
        writer = self.generator if generator is None else self._guarded(generator)
        if act in _TEMPLATE_ACTS:  # a greeting, a goodbye, "what can you do": nothing for an LLM to add
            writer = self._guarded(self.fallback)
        reply = writer.stream(request)
        allowed = [self.catalog[i] for i in (*work.mentioned[-10:], *work.liked[-5:]) if i in self.catalog]
        allowed += list(answer.items) if answer is not None else []
        grounded = self.grounder.stream(
            reply, recs, allowed=allowed, user_text=" ".join(t.text for t in work.turns),  # earlier replies were grounded
            message=message, nothing_found=u.intent in SLATE_INTENTS and not recs, require_films=True, complete=True,
            answer_for=[i.item_id for i in answer.items] if answer is not None else ())
        pieces: list[str] = []
        for piece in grounded:
            pieces.append(piece)
            yield piece
        if reply.fell_back:
            notes.append(f"{writer.name} fell back to the template generator"
                         + (f" ({reply.error})" if reply.error else "") + ".")
        by_kind = Counter(grounded.fixes_by_kind)
        replaced = not grounded.on_task and not pieces
        if replaced:  # nothing was shown: grounding dropped every sentence, or the rest ignored the turn
            if grounded.withheld:
                by_kind["replaced"] += 1
                notes.append(_UNANSWERED_NOTE if answer is not None else
                             "The reply said nothing about films; the template reply is shown instead.")
            else:
                by_kind["emptied"] += 1
                notes.append("Grounding dropped every sentence of the reply; the template reply is shown instead.")
            pieces = ["".join(self.fallback.stream(request)).strip()]
            yield pieces[0]
        if recs and not grounded.names_slate_item and not replaced:
            summary = slate_summary(recs)
            pieces.append(summary)
            yield summary
        if question is not None and "?" not in "".join(pieces)[-2 * len(question.text):]:
            # a generator that left the question out (or grounding dropped it): ask it anyway
            pieces.append(" " + question.text)
            yield " " + question.text
        text = "".join(pieces).strip()
        if reply.fell_back and (cut := text.rfind(FALLBACK_NOTICE_MIDWAY)) > 0:
            # The fallback replaces what the LLM had written before it failed, never extends it: the
            # half-written text may hold the very claim that made it fail (the UI shows the same cut).
            text = text[cut:]
        generator_name, fell_back, reason = reply.generator, reply.fell_back, reply.reason
        if replaced:  # a withheld reply to a question is an unanswered question, not a grounding failure
            reason = "answer" if answer is not None and grounded.withheld else "grounding"
            generator_name, fell_back = self.fallback.name, True
        if answer is not None and not states_answer(answer, text):
            # the model answered something else (or grounding cut the fact): the catalogue's answer instead
            text = self.fallback.generate(request).strip()
            generator_name, fell_back, reason = self.fallback.name, True, "answer"
            notes.append(_UNANSWERED_NOTE)
            yield text
        if len(text) > MAX_TEXT_CHARS:  # e.g. a 50-item template reply: keep it saveable
            ask = " " + question.text if question is not None and text.endswith(question.text) else ""
            text = text[: MAX_TEXT_CHARS - len(TRUNCATION_MARK) - len(ask)].rstrip() + TRUNCATION_MARK + ask
            notes.append(f"The reply was cut to {MAX_TEXT_CHARS} characters.")
        work.add_turn("assistant", text)
        if ranked.intent in SLATE_INTENTS:
            work.record_slate(r.item.item_id for r in recs)
        work.log.append(TurnLog(
            message=message, intent=u.intent, slate=[r.item.item_id for r in recs],
            candidates=candidates.top(max(k, LOGGED_CANDIDATES)).to_records(),
            reasons={r.item.item_id: r.reason for r in recs},
            notes=notes, generator=generator_name, fell_back=fell_back, grounding_fixes=grounded.fixes,
            grounding_fixes_by_kind=dict(by_kind),
            question=question.to_dict() if question else {}, act=act,
            answer=answer.to_dict() if answer is not None else {},
        ))
        state.commit(work)
        yield TurnResult(reply=text, recommendations=recs, intent=u.intent, grounding_fixes=grounded.fixes,
                         grounding_fixes_by_kind=dict(by_kind), generator=generator_name, fell_back=fell_back,
                         fallback_reason=reason, question=question,
                         notes=tuple(dict.fromkeys(notes)), readings=readings_of(u), act=act, answer=answer)

    def _slate(self, state: ConversationState, work: ConversationState, u: Understanding, k: int,
               filters: ItemFilter | None, notes: list[str]) -> tuple[tuple[Recommendation, ...], ScoredItems]:
        """Rank and explain: the turn's recommendations and the candidates they were cut from."""
        if u.intent in SLATE_INTENTS:
            pool = max(k, LOGGED_CANDIDATES, self.questions.pool if self.questions else 0)
            candidates = self.ranker.combine(self._answers_filter(work, self.ranker.gather(work, u, filters=filters)),
                                             pool)
            recs = self.explainer.recommendations(candidates.top(k), work, u)
            if not recs:
                notes.append("No film in the catalogue fits every constraint; try loosening one.")
            return recs, candidates
        if u.intent == "why" and u.target:
            return self.explainer.earlier(state, u.target), ScoredItems()
        return (), ScoredItems()

    def _question(self, work: ConversationState, u: Understanding, recs: Sequence[Recommendation],
                  candidates: ScoredItems) -> Question | None:
        """The question to ask after this turn's slate (see :mod:`workbench.dialogue.question`), if any."""
        if not recs or u.intent not in SLATE_INTENTS:
            return None
        return self.question_for(work, candidates, len(recs))

    def _answers_filter(self, work: ConversationState, cands: Candidates) -> Candidates:
        """Answers to the engine's own questions filter the candidates (see
        :func:`~workbench.dialogue.question.answered_filter`), unless no film would be left; a shorter
        slate of films that fit beats one padded with films the user just ruled out."""
        asked = [entry.question["attribute"] for entry in work.log if entry.question]
        flt = answered_filter(work.constraints, asked) if asked else None
        if flt is None or flt.is_empty:
            return cands
        keep = self.ranker.features.filter_mask(flt)
        if not (cands.soft_allowed & keep).any():  # nothing left: a hint again (the reply says "loosen")
            return cands
        return replace(cands, allowed=cands.allowed & keep, soft_allowed=cands.soft_allowed & keep)

    def question_for(self, state: ConversationState, candidates: ScoredItems, slate_size: int) -> Question | None:
        """The policy's question after a slate of the best ``slate_size`` of ``candidates`` for ``state``
        (attributes the state's constraints fix, or that an earlier turn asked, are not asked)."""
        if self.questions is None:
            return None
        c = state.constraints
        active = {name for name, on in (("genres", c.genres), ("people", c.people),
                                        ("years", c.year_min is not None or c.year_max is not None)) if on}
        asked = [entry.question["attribute"] for entry in state.log if entry.question]
        return self.questions.choose(candidates, slate_size, asked_attributes(active, asked))

    def respond(self, state: ConversationState, message: str, **kwargs: Any) -> TurnResult:
        """:meth:`stream`, joined: the turn's :class:`TurnResult`."""
        result: TurnResult | None = None
        for piece in self.stream(state, message, **kwargs):
            if isinstance(piece, TurnResult):
                result = piece
        assert result is not None
        return result


def follow_up(u: Understanding, state: ConversationState) -> Understanding:
    """"and the second one?" / "what about Alien?" right after an answer asks the same thing about
    another film: the previous answer's attribute (one film's fact) carries over."""
    previous = state.log[-1].answer if state.log and state.log[-1].act == "answer" else {}
    attribute = previous.get("attribute")
    if (attribute in FACT_ATTRIBUTES and u.refs and u.intent not in QUESTION_INTENTS and not u.liked
            and not u.disliked and FOLLOW_UP_RE.match(u.text)):
        return replace(u, intent="ask_fact", attribute=attribute, target=u.refs[0])
    return u


def answer_for(u: Understanding, catalog: Catalog) -> Answer | None:
    """The catalogue's answer to an ``ask_fact`` / ``compare`` message (``None``: not a question,
    or no film to answer about)."""
    if u.intent not in QUESTION_INTENTS or not u.attribute:
        return None
    items = [catalog[i] for i in u.refs if i in catalog]
    return build_answer(u.attribute, items, genres=u.constraints.genres, people=[p.name for p in u.people])


def reply_act(state: ConversationState, u: Understanding, recs: Sequence[Recommendation],
              answer: Answer | None) -> str:
    """What the reply to ``u`` does (:data:`~workbench.dialogue.types.ACTS`); ``state`` is the
    conversation before this message (an off-topic message right after a steer gets ``chat``)."""
    if answer is not None:
        return "answer"
    if u.intent == "why":
        return "explain" if recs else "ask"
    if recs:
        return "recommend"
    if u.intent == "chitchat":  # small talk and off-topic remarks: back to films once, then a neutral word
        earlier = [e.act for e in state.log]
        while earlier and earlier[-1] == "chat":
            earlier.pop()
        return "chat" if earlier and earlier[-1] == "steer" else "steer"
    return _SOCIAL_ACTS.get(u.intent, "ask")


def readings_of(u: Understanding) -> tuple[TitleReading, ...]:
    """The ambiguous titles of a message that another film could be picked for (one per surface)."""
    out: dict[str, TitleReading] = {}
    for m in u.mentions:
        if m.note and m.alternatives and m.surface not in out:
            out[m.surface] = TitleReading(m.surface, m.span, m.item_id, m.alternatives)
    return tuple(out.values())
