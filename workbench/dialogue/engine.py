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
from workbench.dialogue.answers import build_answer, states_answer, years_in_words
from workbench.dialogue.explain import Explainer, slate_summary
from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.dialogue.generators.fallback import FallbackGenerator
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.intent_model import IntentGuesser
from workbench.dialogue.intents import (
    FACT_ATTRIBUTES,
    FOLLOW_UP_RE,
    POINTING_INTENTS,
    QUESTION_INTENTS,
    is_light_remark,
    wants_more,
)
from workbench.dialogue.linking import PersonMention
from workbench.dialogue.person_refs import person_pointer, resolve_person_pointer
from workbench.dialogue.prompts import INSTRUCTIONS
from workbench.dialogue.question import Question, QuestionPolicy, answered_filter, asked_attributes
from workbench.dialogue.ranker import (
    Candidates,
    EngineWeights,
    Ranker,
    RecommenderLike,
    Retriever,
    catalog_popularity,
)
from workbench.dialogue.replay import observe
from workbench.dialogue.restart import RestartingGrounding
from workbench.dialogue.state import ConversationState, TurnLog
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.types import Answer, Recommendation, ReplyRestart, TitleReading, TurnResult
from workbench.dialogue.understand import Understander, Understanding
from workbench.errors import DialogueError
from workbench.filters import ItemFilter
from workbench.limits import MAX_SLATE_ITEMS, MAX_TEXT_CHARS
from workbench.scored import ScoredItems
from workbench.text import check_message, norm_person

#: Intents that produce a new slate.
#: The note of a turn whose reply left out the catalogue's answer to the user's question.
_UNANSWERED_NOTE = "The reply did not state the catalogue's answer; the template answer is shown instead."
SLATE_INTENTS = frozenset({"recommend", "more_like", "refine", "feedback", "seen", "not_seen"})
#: The act of a reply with no slate and no answer, by intent (see :data:`workbench.dialogue.types.ACTS`).
_SOCIAL_ACTS = {"greeting": "greet", "thanks_bye": "close", "capabilities": "introduce", "other": "ask"}
#: Acts the template writes even when an LLM is on: short fixed replies with no slate, where a small LLM
#: only added risk (the demo showed "thanks" answered with film talk that grounding then emptied), and
#: "why": the reason must be the one the engine used (the explainer's), which the small LLM replaced with
#: one of its own ("because of Ben Stiller" for a film recommended as "a comedy, as you asked").
_TEMPLATE_ACTS = frozenset({"greet", "close", "introduce", "explain"})
#: Merged candidates kept in the turn log.
LOGGED_CANDIDATES = 20
#: Ends a reply cut to ``MAX_TEXT_CHARS`` (what the feedback store keeps).
TRUNCATION_MARK = " […]"


class ChatEngine:
    """Grounded conversational recommendations over one catalogue, from its parts.

    :func:`default_engine` builds the app's engine from its ingredients (catalogue, retriever,
    recommender, generator, settings); tests and evaluations that share parts between engines pass
    them here.

    Args:
        understander: reads messages.
        ranker: ranks the catalogue for a conversation state (its catalogue is the engine's).
        explainer: gives each slate item a reason.
        grounder: grounds replies in the slate.
        generator: the default reply writer behind the one deadline-and-fallback layer; its
            ``fallback`` answers when a model fails, and another generator a turn asks for is put
            behind the same fallback and deadlines.
        questions: the :class:`~workbench.dialogue.question.QuestionPolicy` that decides whether a
            slate turn ends with a question and which; ``None``: never ask.
        k: slate size.
    """

    def __init__(
        self,
        *,
        understander: Understander,
        ranker: Ranker,
        explainer: Explainer,
        grounder: Grounder,
        generator: FallbackGenerator,
        questions: QuestionPolicy | None = None,
        k: int = 5,
    ):
        if not 1 <= k <= MAX_SLATE_ITEMS:
            raise DialogueError(f"engine: k must be 1-{MAX_SLATE_ITEMS}, got {k}")
        self.catalog: Catalog = ranker.catalog
        self.k = k
        self.understander = understander
        self.ranker = ranker
        self.explainer = explainer
        self.grounder = grounder
        self.generator = generator
        self.fallback: Generator = generator.fallback
        self.questions = questions

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
        return self.with_parts(ranker=self.ranker.with_weights(weights))

    def with_parts(self, **parts: Any) -> ChatEngine:
        """An engine with some parts replaced (keyword arguments of :class:`ChatEngine`), sharing the rest."""
        own = {"understander": self.understander, "ranker": self.ranker, "explainer": self.explainer,
               "grounder": self.grounder, "generator": self.generator, "questions": self.questions, "k": self.k}
        return ChatEngine(**{**own, **parts})

    def _guarded(self, generator: Generator) -> FallbackGenerator:
        """``generator`` behind the one deadline-and-fallback layer (the fallback itself runs directly)."""
        return self.generator.guard(generator)

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
        u = follow_up(u, state)
        if person_pointer(u) is not None:  # "more from that director": whose, from the conversation
            film, person = self._named_earlier(state)
            u = resolve_person_pointer(u, state, self.catalog, focus or film, person)
        return u

    def _named_earlier(self, state: ConversationState) -> tuple[str | None, PersonMention | None]:
        """The film the previous user message named by title ("I loved Heat"), and the person the user
        named last in the last three messages ("something with Keanu Reeves"), each read once. Read
        without the slate: the one on screen now came after those messages."""
        film: str | None = None
        for back, text in enumerate([t.text for t in state.turns if t.role == "user"][-3:][::-1]):
            u = self.understander.understand(text, second_opinion=False)
            if back == 0 and u.mentions:
                film = u.mentions[0].item_id
            if u.people:
                return film, u.people[-1]
        return film, None

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
    ) -> Iterator[str | ReplyRestart | TurnResult]:
        """Yield grounded reply pieces, then one :class:`TurnResult`; a :class:`ReplyRestart` between
        pieces withdraws those before it (a model that failed midway, replaced by the fallback).

        ``state`` changes only after the last piece (an abandoned stream leaves it as it was).
        """
        self.check_message(message)
        k = k or self.k
        if not 1 <= k <= MAX_SLATE_ITEMS:
            raise DialogueError(f"k must be 1-{MAX_SLATE_ITEMS}, got {k}")
        work = state.copy()
        work.push_undo()
        u = self.understand(work, message, linked)
        if u.count:  # "recommend me 3 films": fewer than the slate size asked for, never more
            k = min(k, u.count)
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
        template_turn = act in _TEMPLATE_ACTS or (not recs and answer is None)
        if template_turn:
            # a greeting, a goodbye, "what can you do", "why": the template's own words; and any reply with
            # no film and no answer to give (an empty slate, whose note the model never sees; small talk,
            # where a small model wrote "I'm sorry for your loss" or "I am glad of your interest")
            writer = self._guarded(self.fallback)
        reply = writer.stream(request)
        # the films the conversation talked about, and those this message points at ("more like that one":
        # its reasons name the anchor, a film of the last slate)
        allowed = [self.catalog[i] for i in (*work.mentioned[-10:], *work.liked[-5:], *u.refs,
                                             *([u.target] if u.target else [])) if i in self.catalog]
        allowed += list(answer.items) if answer is not None else []
        grounded = RestartingGrounding(reply, lambda text: self.grounder.stream(
            text, recs, allowed=allowed, user_text=" ".join(t.text for t in work.turns),  # earlier replies were grounded
            message=message, nothing_found=u.intent in SLATE_INTENTS and not recs, require_films=not template_turn, complete=True,
            answer_for=[i.item_id for i in answer.items] if answer is not None else ()))
        pieces: list[str] = []
        for piece in grounded:
            if isinstance(piece, ReplyRestart):  # a model that failed midway is replaced, not extended:
                pieces = []  # its half-written text may hold the very claim that made it fail
            else:
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
        if (u.intent == "refine" and u.count and not u.constraint_fields and len(state.last_slate) > u.count
                and list(u.refs) in ([], state.last_slate[: u.count])):
            # "top 3 please" with five films on screen: the best three of them, as ranked then
            kept = tuple(r for i in state.last_slate[: u.count] for r in self.explainer.earlier(state, i))
            if len(kept) == u.count:
                notes.append(f"Here are the top {u.count} of them.")
                return kept, ScoredItems()
        if u.intent in SLATE_INTENTS:
            pool = max(k, LOGGED_CANDIDATES, self.questions.pool if self.questions else 0)
            gathered = self._answers_filter(work, self.ranker.gather(work, u, filters=filters))
            candidates = self.ranker.combine(gathered, pool)
            recs = self.explainer.recommendations(candidates.top(k), work, u)
            if not recs:
                recs, candidates = self._other_years(work, u, gathered, filters, k, pool, notes)
            if not recs:
                flt = filters if filters is not None else work.constraints
                notes.append(self._all_shown(work, flt) or nothing_fits(flt))
            return recs, candidates
        if u.intent == "why" and u.target:
            return self.explainer.earlier(state, u.target), ScoredItems()
        return (), ScoredItems()

    def _other_years(self, work: ConversationState, u: Understanding, gathered: Candidates,
                     filters: ItemFilter | None, k: int, pool: int, notes: list[str]
                     ) -> tuple[tuple[Recommendation, ...], ScoredItems]:
        """When nothing fits and this message's year bound is part of why ("something a bit newer"
        read as "from 2018 on" after a slate of mysteries), the films that fit everything else, from
        other years, with a note that says so. Exclusions, genres and people asked for are never
        loosened, nor a year range the user set earlier ("more please" after "from the 90s" stays
        in the 90s, or says nothing is left)."""
        flt = filters if filters is not None else work.constraints
        if (flt.year_min is None and flt.year_max is None) or "years" not in u.constraint_fields:
            return (), ScoredItems()  # a year range carried from earlier turns stays a hard filter
        loose = replace(flt, year_min=None, year_max=None, exclude_ids=frozenset())
        keep = gathered.soft_allowed & (self.ranker.features.filter_mask(loose) if not loose.is_empty else True)
        if not keep.any():
            return (), ScoredItems()
        candidates = self.ranker.combine(replace(gathered, allowed=keep, soft_allowed=keep), pool)
        recs = self.explainer.recommendations(candidates.top(k), work, u)
        if recs:
            notes.append(f"Nothing {years_in_words(flt.year_min, flt.year_max)} fits the rest of what you asked, "
                         "so these are from other years")
        return recs, candidates

    def _all_shown(self, work: ConversationState, flt: ItemFilter) -> str:
        """The note for an empty slate when the people asked for have no film left that the user has not
        already been shown, named or judged ("more from that director" after their only film): that, not
        "no film fits", is why ("" when it is not so)."""
        if not flt.people:
            return ""
        theirs = ItemFilter(people=flt.people).allowed_ids(self.catalog)
        if not theirs or not theirs <= {self.catalog.canonical_id(i) for i in work.excluded() if i in self.catalog}:
            return ""
        names = sorted({n for i in theirs for n in (*self.catalog[i].directors, *self.catalog[i].cast)
                        if norm_person(n) in flt.people})
        return (f"That was every film with {' and '.join(names)} in my catalogue: you have seen, named or been "
                "shown all of them. Tell me another film, person or genre and I will look again.")

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


def nothing_fits(flt: ItemFilter) -> str:
    """The note for an empty slate, naming what the user asked for: "No film in the catalogue is a
    mystery film, not horror, from 2018 on"."""
    parts = []
    if flt.genres:
        parts.append(" and ".join(sorted(flt.genres)))
    if flt.exclude_genres:
        parts.append("not " + " or ".join(sorted(flt.exclude_genres)))
    if flt.people:
        parts.append("with " + " and ".join(sorted(flt.people)))
    if flt.exclude_people:
        parts.append("without " + " or ".join(sorted(flt.exclude_people)))
    if flt.exclude_topics:
        parts.append("nothing about " + " or ".join(sorted(flt.exclude_topics)))
    if flt.year_min is not None or flt.year_max is not None:
        parts.append(years_in_words(flt.year_min, flt.year_max))
    if not parts:
        return "No film in the catalogue fits every constraint"
    return "No film in the catalogue fits all of this: " + ", ".join(parts)


def default_engine(
    catalog: Catalog,
    retriever: Retriever | None = None,
    recommender: RecommenderLike | None = None,
    generator: Generator | None = None,
    *,
    k: int = 5,
    timeout_s: float = 30.0,
    titles: TitleIndex | None = None,
    popularity: Mapping[str, float] | None = None,
    weights: EngineWeights | None = None,
    item_vectors: Any = None,
    questions: QuestionPolicy | bool = True,
    intent_guesser: IntentGuesser | None = None,
) -> ChatEngine:
    """The app's engine built from its ingredients: the one place the default parts are chosen.

    Args:
        catalog: the items.
        retriever: free-text search (``search(query, k, filters, exclude)``); ``None`` to skip.
        recommender: history-based scorer (``recommend(history, k, exclude=, filters=)``); ``None``
            to skip (the app swaps one in once it is fitted, see :attr:`ChatEngine.recommender`).
        generator: the default reply writer; ``None`` means the template generator. It is put
            behind a :class:`FallbackGenerator` with ``timeout_s`` and a template fallback.
        k: slate size.
        timeout_s: seconds a model's reply may take before the template answers.
        titles: the catalogue's :class:`~workbench.dialogue.titles.TitleIndex`, shared by the
            understander and the grounder (the services build it once per catalogue); built here
            when absent.
        popularity: item id -> count for the prior and for resolving ambiguous names. Defaults to
            the catalogue's ``mentions``; an evaluation passes counts from its training split.
        weights: how the ranker merges its sources.
        item_vectors: item embeddings for the ranker's ``history_dense`` source (see :class:`Ranker`).
        questions: the :class:`QuestionPolicy`; ``True``: the default one over ``catalog``;
            ``False``: never ask.
        intent_guesser: the intent model's second opinion for the understander
            (:func:`workbench.dialogue.intent_model.load_intent_model`); ``None``: the rules alone.
    """
    popularity = dict(catalog_popularity(catalog) if popularity is None else popularity)
    titles = titles if titles is not None else TitleIndex(catalog)
    understander = Understander(catalog, popularity, titles=titles, intent_guesser=intent_guesser)
    fallback = TemplateGenerator()
    return ChatEngine(
        understander=understander,
        ranker=Ranker(catalog, retriever, recommender, understander=understander, weights=weights,
                      popularity=popularity, item_vectors=item_vectors),
        explainer=Explainer(catalog),
        grounder=Grounder(catalog, titles, instructions=INSTRUCTIONS),
        generator=FallbackGenerator.around(generator if generator is not None else fallback, fallback,
                                           timeout_s=timeout_s),
        questions=QuestionPolicy(catalog) if questions is True else questions or None,
        k=k,
    )


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
    return build_answer(u.attribute, items, genres=u.constraints.genres, people=[p.name for p in u.people],
                        years=(u.constraints.year_min, u.constraints.year_max))


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
        if is_light_remark(u.text):
            return "chat"  # "lol ok": a laugh wants no lecture about films
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
