"""Tasks of an annotation project: a conversation context to judge, and where tasks come from.

A :class:`Task` is a list of ``{"role", "content"}`` turns ending with a user turn, an id and
free-form metadata, and for a gold task its expected answer (``gold``, checked against the slate
once the engine has answered, see :mod:`workbench.projects.gold`). :func:`read_tasks` reads them
from a JSONL, CSV or Parquet file or a saved ``datasets`` directory (a ``messages`` column;
optional ``id``, ``metadata`` and ``gold``);
:func:`redial_tasks` cuts ReDial conversations before recommender turns, with ``@id`` markers
replaced by titles (the readers of :mod:`workbench.evaluate.redial`).

It knows task contexts and their files; it does not know the engine, storage or gradio.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ProjectError, WorkbenchError
from workbench.evaluate.redial import load_dialogues, mention_ids, message_text
from workbench.limits import MAX_CONVERSATION_TURNS, MAX_ID_CHARS, MAX_MESSAGE_CHARS, MAX_TEXT_CHARS

ROLES = ("user", "assistant", "system")
TASK_FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


@dataclass(frozen=True)
class Task:
    """One conversation context that every annotator of a project judges."""

    task_id: str
    messages: tuple[Mapping[str, str], ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    gold: Mapping[str, Any] | None = None  # the expected answer of a gold task (items by id or title)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.task_id, "messages": [dict(m) for m in self.messages], "metadata": dict(self.metadata)}


def parse_task(row: Any, where: str, default_id: str) -> Task:
    """Check one task row (``messages``, optional ``id`` and ``metadata``).

    Raises:
        ProjectError: naming ``where`` (file and row) and the bad field.
    """
    if not isinstance(row, Mapping):
        raise ProjectError(f"{where}: expected an object with a 'messages' field, got {type(row).__name__}")
    messages = row.get("messages")
    if isinstance(messages, str):  # CSV cells hold JSON text
        try:
            messages = json.loads(messages)
        except json.JSONDecodeError as exc:
            raise ProjectError(f"{where}: field 'messages' is not valid JSON ({exc.msg})") from None
    if hasattr(messages, "tolist"):  # a Parquet/pandas array
        messages = messages.tolist()
    if not isinstance(messages, list) or not messages:
        raise ProjectError(f"{where}: field 'messages' must be a non-empty list of {{role, content}}, "
                           f"got {messages!r}")
    if len(messages) > MAX_CONVERSATION_TURNS:
        raise ProjectError(f"{where}: field 'messages' has {len(messages)} turns (limit {MAX_CONVERSATION_TURNS})")
    turns = []
    for i, m in enumerate(messages):
        at = f"{where}: field 'messages[{i}]'"
        if not isinstance(m, Mapping):
            raise ProjectError(f"{at}: expected {{role, content}}, got {m!r}")
        role, content = m.get("role"), m.get("content", m.get("text"))
        if role not in ROLES:
            raise ProjectError(f"{at}.role: must be one of {', '.join(ROLES)}, got {role!r}")
        if not isinstance(content, str) or not content.strip():
            raise ProjectError(f"{at}.content: must be non-empty text, got {content!r}")
        limit = MAX_MESSAGE_CHARS if i == len(messages) - 1 else MAX_TEXT_CHARS
        if len(content) > limit:
            raise ProjectError(f"{at}.content: {len(content)} characters (limit {limit})")
        turns.append({"role": role, "content": content})
    if turns[-1]["role"] != "user":
        raise ProjectError(f"{where}: field 'messages' must end with a user turn, ends with {turns[-1]['role']!r}")
    task_id = row.get("id")
    task_id = default_id if task_id is None or task_id == "" else task_id
    if not isinstance(task_id, (str, int)) or isinstance(task_id, bool):
        raise ProjectError(f"{where}: field 'id' must be text or an integer, got {task_id!r}")
    task_id = str(task_id)
    if len(task_id) > MAX_ID_CHARS:
        raise ProjectError(f"{where}: field 'id' has {len(task_id)} characters (limit {MAX_ID_CHARS})")
    metadata = row.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError as exc:
            raise ProjectError(f"{where}: field 'metadata' is not valid JSON ({exc.msg})") from None
    if not isinstance(metadata, Mapping):
        raise ProjectError(f"{where}: field 'metadata' must be an object, got {metadata!r}")
    gold = row.get("gold")
    if isinstance(gold, str):
        try:
            gold = json.loads(gold) if gold.strip() else None
        except json.JSONDecodeError as exc:
            raise ProjectError(f"{where}: field 'gold' is not valid JSON ({exc.msg})") from None
    if gold is not None and not isinstance(gold, Mapping):
        raise ProjectError(f"{where}: field 'gold' must be an object {{\"judgements\", \"reply_label\"}}, got {gold!r}")
    return Task(task_id, tuple(turns), dict(metadata), dict(gold) if gold is not None else None)


def check_unique(tasks: Sequence[Task], source: str) -> list[Task]:
    """``tasks`` as a list, or an error naming the first repeated id."""
    seen: set[str] = set()
    for t in tasks:
        if t.task_id in seen:
            raise ProjectError(f"{source}: task id {t.task_id!r} appears twice")
        seen.add(t.task_id)
    if not tasks:
        raise ProjectError(f"{source}: no tasks")
    return list(tasks)


def read_tasks(path: str | Path) -> list[Task]:
    """Tasks from a JSONL / CSV / Parquet file or a saved ``datasets`` directory.

    Raises:
        ProjectError: the file is missing or unreadable, or a row is invalid (file, row and field named).
    """
    path = Path(path)
    if not path.exists():
        raise ProjectError(f"{path}: task file not found")
    if path.is_dir():
        rows = _dataset_rows(path)
    elif path.suffix in (".jsonl", ".json"):
        rows = _jsonl_rows(path)
    elif path.suffix in (".csv", ".parquet"):
        rows = _table_rows(path)
    else:
        raise ProjectError(f"{path}: unknown task file type {path.suffix!r} "
                           f"(expected {', '.join(TASK_FILE_SUFFIXES)} or a saved datasets folder)")
    return check_unique([parse_task(row, f"{path}: {kind} {n}", str(n)) for kind, n, row in rows], str(path))


def _jsonl_rows(path: Path) -> Iterable[tuple[str, int, Any]]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield "line", lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProjectError(f"{path}: line {lineno}: invalid JSON ({exc.msg})") from None


def _table_rows(path: Path) -> list[tuple[str, int, Any]]:
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False) if path.suffix == ".csv" else pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ProjectError(f"{path}: unreadable ({exc})") from None
    if "messages" not in frame.columns:
        raise ProjectError(f"{path}: no 'messages' column (columns: {', '.join(map(str, frame.columns))})")
    first = 2 if path.suffix == ".csv" else 1  # CSV rows are numbered as lines, after the header
    return [("row", first + i, row) for i, row in enumerate(frame.to_dict(orient="records"))]


def _dataset_rows(path: Path) -> list[tuple[str, int, Any]]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise ProjectError(f"{path}: not a saved datasets folder ({exc})") from None
    if isinstance(ds, datasets.DatasetDict):
        ds = ds[next(iter(ds))]
    if "messages" not in ds.column_names:
        raise ProjectError(f"{path}: no 'messages' column (columns: {', '.join(ds.column_names)})")
    return [("row", i + 1, row) for i, row in enumerate(ds)]


def redial_tasks(path: str | Path, n: int, catalog: Any) -> list[Task]:
    """Up to ``n`` tasks from a ReDial JSONL file, one per conversation.

    A conversation is cut before its first recommender message that mentions a movie and follows
    a seeker message; ``@id`` markers become titles (the catalogue's, else the conversation's own
    ``movieMentions`` name). Metadata keeps the conversation id, the cut position and the movies
    the recommender went on to mention.

    Raises:
        ProjectError: the file is unreadable or invalid, or ``n`` is not positive.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ProjectError(f"--n: must be a positive integer, got {n!r}")
    try:
        dialogues = load_dialogues(path)
    except WorkbenchError as exc:
        raise ProjectError(str(exc)) from None
    tasks: list[Task] = []
    for conv in dialogues:
        seeker = conv["initiatorWorkerId"]
        turns: list[dict[str, str]] = []
        for pos, msg in enumerate(conv["messages"]):
            role = "user" if msg["senderWorkerId"] == seeker else "assistant"
            ids = mention_ids(msg["text"])
            if role == "assistant" and ids and turns and turns[-1]["role"] == "user":
                meta = {"source": "redial", "conversation_id": str(conv["conversationId"]), "position": pos,
                        "next_mentions": list(dict.fromkeys(ids))}
                tasks.append(Task(f"redial-{conv['conversationId']}-{pos}", tuple(turns[-MAX_CONVERSATION_TURNS:]),
                                  meta))
                break
            text = message_text(msg["text"], conv, catalog, "text").strip()
            if text:
                turns.append({"role": role, "content": text[:MAX_MESSAGE_CHARS]})
        if len(tasks) == n:
            break
    return check_unique(tasks, str(path))
