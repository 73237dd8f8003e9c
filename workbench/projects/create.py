"""Creating a project: store its tasks, then answer each once with the engine, resumably.

Every task is answered once at creation (reply, slate with per-source scores, the generator
and index ids) and the answer is stored with the task, so every annotator judges the same thing.
Answers are committed one task at a time; running the creation again with the same name and
tasks answers only the tasks still unanswered.

It knows the engine's public verbs (``new_state``, ``observe``, ``respond``) and the project
store; it does not know gradio or the feedback store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ProjectError
from workbench.limits import MAX_ID_CHARS
from workbench.projects.gold import check_rate, set_gold_answer
from workbench.projects.store import ProjectInfo, ProjectStore
from workbench.projects.tasks import Task, check_unique

#: Project names: safe in a URL query (``?project=NAME``) and a file name.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: How many cast members an item of a stored slate keeps (as the chat API's cards).
CARD_CAST = 3
#: Most annotators who may be asked to judge each task.
MAX_OVERLAP = 100


def check_name(name: Any) -> str:
    """``name`` if it is a valid project name, else a :class:`ProjectError` saying why."""
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_ID_CHARS:
        raise ProjectError(f"project name must be letters, digits, '.', '_' or '-' (starting with a letter or "
                           f"digit, at most {MAX_ID_CHARS} characters), got {name!r}")
    return name


def answer_task(engine: Any, task_id: str, messages: Sequence[Mapping[str, str]], *,
                index_id: str = "") -> dict[str, Any]:
    """The engine's answer to a task: earlier turns observed, the final user turn answered.

    Returns the stored form: ``reply``, ``items`` (the ``/chat`` item shape), ``generator``,
    ``index_id``, ``catalog_hash``, ``intent`` and ``notes``.
    """
    state = engine.new_state(f"project-task:{task_id}")
    for turn in messages[:-1]:
        if turn["role"] in ("user", "assistant"):
            engine.observe(state, turn["role"], turn["content"])
    result = engine.respond(state, messages[-1]["content"])
    items = []
    for rec in result.recommendations:
        d = rec.to_dict()
        d.update({"year": rec.item.year, "genres": list(rec.item.genres), "directors": list(rec.item.directors),
                  "cast": list(rec.item.cast[:CARD_CAST])})
        items.append(d)
    return {
        "reply": result.reply,
        "items": items,
        "generator": result.generator,
        "index_id": index_id,
        "catalog_hash": str(getattr(engine.catalog, "content_hash", "") or ""),
        "intent": result.intent,
        "notes": list(result.notes),
    }


def create_project(
    store: ProjectStore,
    name: str,
    tasks: Sequence[Task],
    *,
    overlap: int,
    engine: Any,
    guidelines: str = "",
    index_id: str = "",
    meta: Mapping[str, Any] | None = None,
    show_progress: bool = True,
    gold_rate: float | None = None,
) -> ProjectInfo:
    """Create (or finish creating) project ``name`` and answer its tasks with ``engine``.

    Args:
        tasks: the contexts (see :mod:`workbench.projects.tasks`).
        overlap: how many different annotators must submit each task.
        engine: a :class:`~workbench.dialogue.engine.ChatEngine` (any object with its verbs).
        index_id: the id of the engine's item index, stored with every answer.
        show_progress: draw a tqdm bar on stderr.
        gold_rate: share of each annotator's tasks that are gold tasks (tasks with a ``gold``
            answer); ``None`` keeps the project's setting (0 for a new project).

    Raises:
        ProjectError: a bad name or overlap, a project that already exists, or a resume with
            other tasks or another overlap.
    """
    from tqdm.auto import tqdm

    check_name(name)
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 1 <= overlap <= MAX_OVERLAP:
        raise ProjectError(f"--overlap: must be an integer 1-{MAX_OVERLAP}, got {overlap!r}")
    tasks = check_unique(list(tasks), f"project {name!r}")
    rate = check_rate(gold_rate) if gold_rate is not None else None
    store.create_project(name, guidelines, overlap, dict(meta or {}), [t.to_dict() for t in tasks])
    todo = store.unanswered(name)
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"answering {name}", unit="task",
              disable=not show_progress) as bar:
        for task in todo:
            store.set_answer(name, task.task_id, answer_task(engine, task.task_id, task.messages,
                                                             index_id=index_id))
            bar.update(1)
    for task in tasks:  # the slates are known now: gold answers may name their items
        if task.gold is not None:
            set_gold_answer(store, name, task.task_id, task.gold, "file")
    if rate is not None:
        store.set_quality_settings(name, store.quality_settings(name).replace(gold_rate=rate))
    store.set_state(name, "ready")
    return store.project(name)
