"""A second opinion on the intent: a linear classifier over the retriever's sentence embeddings.

The rules of :mod:`workbench.dialogue.intents` read cues precisely (which film, which slate
position, which attribute) but only for the phrasings someone wrote a pattern for. Measured on
messages written after the rules were tuned, most of their misses were phrasings of a social
intent that fell through to a default ("what can I use you for" read as a request, "my kids are
finally asleep" as a request, "need something to cheer me up" as small talk). Sentence
embeddings generalise over phrasing, so this model is asked only when the rules ended on such a
default, and its answer is taken only when it is confident (:func:`second_opinion`).

The model is multinomial logistic regression (scikit-learn, at fit time only) over the message's
embedding plus one feature "a slate is shown"; at run time it is a matrix product in NumPy. It is
fitted by ``python -m workbench refit intents`` on the labelled set's ``dev`` split plus
``intents_train.jsonl`` (never the held-out split) and saved as ``weights.npz`` + ``meta.json``.
Loading checks the manifest against the embedder in use: a model fitted on other embeddings is
not used (:func:`load_intent_model` says why).

It knows vectors, intents and readings; it does not know the catalogue, scores or generators.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.config import ASSETS_DIR
from workbench.errors import ConfigError
from workbench.manifest import built_with, mismatches, read_manifest, rebuild_hint, write_manifest

if TYPE_CHECKING:
    from workbench.dialogue.intents import Reading
    from workbench.retrieval.embed import Embedder

log = logging.getLogger(__name__)

#: The model shipped with the repository (fitted on the MiniLM embeddings the app uses by default).
BUNDLED_DIR = ASSETS_DIR / "intent-model"
REFIT_COMMAND = "python -m workbench refit intents --out assets/intent-model"
WEIGHTS = "weights.npz"
#: Rule outcomes that mean "no specific cue fired": only these are open to a second opinion.
DEFAULT_OUTCOMES = frozenset({"recommend", "refine", "chitchat", "other"})
#: Intents that want no slate and point at no film.
SOCIAL = frozenset({"capabilities", "chitchat", "greeting", "thanks_bye", "other"})
#: What the model may change a default outcome into: the social intents and a plain request. The
#: intents that need a target, a slate position or an attribute stay with the rules, which find them.
OVERRIDES = SOCIAL | {"recommend"}
#: Probability the model's best intent needs before it replaces the rules' default. Chosen on
#: messages written after the rules (the ``intents_train`` file, model fitted on ``dev`` alone):
#: 0.4-0.6 all gave the same accuracy there; 0.5 is the middle.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class IntentModel:
    """A fitted linear intent classifier over one embedder's vectors."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, dimension + 1)
    intercept: np.ndarray  # (n_classes,)
    embedder_id: str
    threshold: float = DEFAULT_THRESHOLD
    meta: dict[str, Any] | None = None

    def probabilities(self, vectors: np.ndarray, slate_shown: Sequence[bool]) -> np.ndarray:
        """Softmax probabilities, one row per message, columns in :attr:`classes` order."""
        x = np.hstack([np.asarray(vectors, dtype=np.float64),
                       np.asarray(slate_shown, dtype=np.float64).reshape(-1, 1)])
        logits = x @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def guess(self, vector: np.ndarray, slate_shown: bool) -> tuple[str, float]:
        """The most probable intent for one message's embedding and its probability."""
        p = self.probabilities(np.asarray(vector).reshape(1, -1), [slate_shown])[0]
        best = int(p.argmax())
        return self.classes[best], float(p[best])


class IntentGuesser:
    """An :class:`IntentModel` bound to the embedder it was fitted on: text in, (intent, probability) out."""

    def __init__(self, model: IntentModel, embedder: Embedder):
        self.model = model
        self.embedder = embedder

    def __call__(self, text: str, slate_shown: bool) -> tuple[str, float]:
        return self.model.guess(self.embedder.encode([text])[0], slate_shown)


def second_opinion(reading: Reading, guess: tuple[str, float] | None, *, threshold: float,
                   anchored: bool) -> Reading:
    """``reading`` with the model's intent where the rules ended on a default and the model is sure.

    Args:
        reading: what the rules read.
        guess: the model's (intent, probability), or ``None`` without a model.
        threshold: the probability the guess needs.
        anchored: the message names a film or a person or states a constraint: it is never turned
            into small talk, a greeting or a closing ("I love horror" stays a request).
    """
    if guess is None or reading.intent not in DEFAULT_OUTCOMES or reading.cued:
        return reading
    intent, p = guess
    if intent == reading.intent or intent not in OVERRIDES or p < threshold:
        return reading
    if intent in SOCIAL:
        if anchored:
            return reading
        return replace(reading, intent=intent, target=None, stance="neutral", refs=(), attribute=None)  # type: ignore[arg-type]
    return replace(reading, intent=intent, attribute=None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- saving and loading


def data_hash(rows: Iterable[tuple[str, bool, str]]) -> str:
    """SHA-256 over the training rows (text, slate shown, intent), in order."""
    h = hashlib.sha256()
    for text, shown, intent in rows:
        h.update(json.dumps([text, bool(shown), intent]).encode("utf-8"))
    return h.hexdigest()


def save_intent_model(model: IntentModel, directory: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``weights.npz`` then ``meta.json`` (the manifest last, so a half-written model never loads)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / WEIGHTS, coef=model.coef.astype(np.float32), intercept=model.intercept.astype(np.float32))
    full = {"kind": "intent-model", "classes": list(model.classes), "embedder": model.embedder_id,
            "dimension": int(model.coef.shape[1] - 1), "threshold": model.threshold, **meta}
    write_manifest(out, full)
    return out


def read_intent_model(directory: str | Path) -> IntentModel:
    """The model saved in ``directory``.

    Raises:
        ConfigError: the manifest or the weights are missing or do not fit each other (the message
            names the file and how to rebuild).
    """
    d = Path(directory)
    fix = rebuild_hint(REFIT_COMMAND)
    meta = read_manifest(d, error=ConfigError, fix=fix, what="intent model",
                         required=("kind", "classes", "embedder", "dimension"))
    if meta["kind"] != "intent-model":
        raise ConfigError(f"{d}: manifest kind is {meta['kind']!r}, not 'intent-model'; {fix}")
    try:
        with np.load(d / WEIGHTS) as z:
            coef, intercept = np.asarray(z["coef"], dtype=np.float64), np.asarray(z["intercept"], dtype=np.float64)
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"{d / WEIGHTS}: unreadable intent weights ({exc}); {fix}") from None
    classes = tuple(meta["classes"])
    if coef.shape != (len(classes), int(meta["dimension"]) + 1) or intercept.shape != (len(classes),):
        raise ConfigError(f"{d / WEIGHTS}: weights of shape {coef.shape} do not fit {len(classes)} classes "
                          f"x {meta['dimension']} dimensions + 1; {fix}")
    return IntentModel(classes, coef, intercept, str(meta["embedder"]),
                       float(meta.get("threshold", DEFAULT_THRESHOLD)), meta)


def load_intent_model(setting: str, embedder: Embedder) -> IntentGuesser | None:
    """The guesser the ``intent_model`` setting names for ``embedder``, or ``None``.

    ``off``: none. ``auto``: the bundled model when it was fitted on ``embedder``'s model (else
    none, logged: a test or a Space with other embeddings runs on the rules alone). A path: that
    model, which must fit ``embedder`` (else :class:`ConfigError` naming what differs).
    """
    if setting == "off":
        return None
    directory = BUNDLED_DIR if setting == "auto" else Path(setting)
    if setting == "auto" and not (directory / "meta.json").is_file():
        log.info("intent model: none bundled at %s; the rules decide alone", directory)
        return None
    model = read_intent_model(directory)
    problems = mismatches({"embedder": model.embedder_id, "dimension": model.coef.shape[1] - 1},
                          {"embedder": embedder.model_id, "dimension": embedder.dimension}, "the intent model")
    if problems:
        if setting == "auto":
            log.info("intent model: %s does not fit the embedder in use (%s); the rules decide alone",
                     directory, "; ".join(problems))
            return None
        raise ConfigError(built_with(f"the intent model in {directory}", problems, REFIT_COMMAND))
    return IntentGuesser(model, embedder)


def fit_intent_model(rows: Sequence[tuple[str, bool, str]], embedder: Embedder, *, c: float = 16.0,
                     threshold: float = DEFAULT_THRESHOLD) -> IntentModel:
    """Fit the classifier on ``rows`` of (text, slate shown, intent) with scikit-learn's
    ``LogisticRegression`` (multinomial, L2, inverse strength ``c``).

    A social message means the same with or without a slate on screen, but the labelled set holds
    most of them without one, which taught a first fit that "a slate is shown" means "refine"
    ("can you find showtimes?" after a slate read as a refinement): each social row is therefore
    fitted with both values of the slate feature.
    """
    from sklearn.linear_model import LogisticRegression

    rows = [*rows, *((text, not shown, intent) for text, shown, intent in rows if intent in SOCIAL)]
    if len({r[2] for r in rows}) < 3:  # scikit-learn keeps one row of weights for two classes
        raise ConfigError("intent model: the training rows hold fewer than three intents")
    vectors = embedder.encode([r[0] for r in rows])
    x = np.hstack([vectors, np.array([[float(r[1])] for r in rows])])
    clf = LogisticRegression(C=c, max_iter=5000).fit(x, [r[2] for r in rows])
    return IntentModel(tuple(str(c_) for c_ in clf.classes_), np.asarray(clf.coef_, dtype=np.float64),
                       np.asarray(clf.intercept_, dtype=np.float64), embedder.model_id, threshold)
