"""The Hub side of feedback sync: the dataset card that makes the synced shards a typed dataset.

The store's ``CommitScheduler`` uploads shards to ``data/`` of a dataset repo.
This module writes the repo's ``README.md`` once: YAML that declares the
``default`` config (``data/**/*.jsonl``, split ``train``) and the record
features, so ``load_dataset(repo_id)`` returns :data:`FEEDBACK_FEATURES` rather
than types guessed from the first rows (an all-empty ``rating`` column would
otherwise be guessed as null and clash with later files).

Only called when Hub sync is configured; it never runs at import time.
"""

from __future__ import annotations

import logging
from typing import Any

from workbench.feedback.record import ITEM_LABELS, MAX_COMMENT_CHARS, REPLY_LABELS, SCHEMA_VERSION

log = logging.getLogger(__name__)

CARD_PATH = "README.md"


def dataset_card(repo_id: str, path_in_repo: str = "data") -> str:
    """The README.md of the feedback dataset repo: YAML (configs + features) and a short description."""
    import yaml

    from workbench.feedback.record import FEEDBACK_FEATURES

    meta = {
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": f"{path_in_repo}/**/*.jsonl"}],
            }
        ],
        "dataset_info": {"features": FEEDBACK_FEATURES._to_yaml_list()},
        "tags": ["chat-rec-workbench", "recommendation", "human-feedback"],
    }
    body = f"""# {repo_id.split("/")[-1]}

Annotator feedback from Chat-Rec Workbench (schema version {SCHEMA_VERSION}), uploaded in the
background as append-only JSONL shards (one per app process) under `{path_in_repo}/`.

One row per saved judgement of one dialogue turn: the conversation so far, the user message, the
reply and the generator that wrote it, the slate shown (item id, title, rank, score and per-source
scores) with per-item labels ({", ".join(ITEM_LABELS)}) and 1-5 ratings, a reply label
({", ".join(REPLY_LABELS)}), a comment (up to {MAX_COMMENT_CHARS} characters), the catalogue hash
and the index id.

Arena votes (blind side-by-side comparisons) are two rows each, one per side, sharing `arena_pair`,
`arena_vote` (a, b, tie or both_bad) and the annotator; `arena_side` says whether the row's reply was
shown as A (left) or B, and `system_id`, `system_hash` and `system_config` which configuration wrote it.

Annotation projects: rows with `project` and `task_id` set are annotators' raw answers to a project's
tasks (several annotators per task). A row whose `session_id` starts with `review:` is a reviewer's
final answer to a task whose annotators disagreed (`annotator` is the reviewer, `comment` the note).
A task's final answer is its latest review, else the majority of its annotators' latest rows (per item
the most common label and the median rating), or the single answer; `python -m workbench project export
--format jsonl` writes every raw answer with the task's final answer under `final` (`judgements`,
`reply_label`, `source`: review, majority or single).

Rows are never edited; a re-saved judgement is a new row (the latest per annotator and turn wins in
the workbench's exports). A `record_id` may appear twice if a shard was re-uploaded; deduplicate on it,
or export with `python -m workbench feedback export --format hf|parquet|jsonl|sft|dpo|triplets`.
"""
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + body


def ensure_dataset_card(api: Any, repo_id: str, path_in_repo: str = "data") -> bool:
    """Upload :func:`dataset_card` unless the repo already has a README; return whether it uploaded.

    Failures are logged, not raised: the shards sync without a card, and loading them
    then falls back to inferred types.
    """
    try:
        if api.file_exists(repo_id, CARD_PATH, repo_type="dataset"):
            return False
        api.upload_file(
            path_or_fileobj=dataset_card(repo_id, path_in_repo).encode("utf-8"),
            path_in_repo=CARD_PATH,
            repo_id=repo_id,
            repo_type="dataset",
            commit_message="Add the feedback dataset card (features and configs)",
        )
        return True
    except Exception as exc:  # network/auth errors must not stop the app from saving locally
        log.warning("feedback Hub sync: could not write the dataset card of %s: %s", repo_id, exc)
        return False
