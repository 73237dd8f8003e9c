"""The PostgreSQL feedback store: records in one table keyed by record id, shared by every app process.

Implements the same :class:`~workbench.feedback.store.RecordStore` protocol as the JSONL
:class:`~workbench.feedback.store.JsonlFeedbackStore` (the same contract tests run on both):

* :meth:`PostgresFeedbackStore.append_many` validates every record first, then inserts them in
  one transaction (``INSERT ... ON CONFLICT (record_id) DO NOTHING``): all or nothing, and a
  retried write (a lost reply, a replica killed after its commit, a copy run twice) never adds a
  second row. It returns once the transaction is committed, which is PostgreSQL's durability
  point (``synchronous_commit``).
* :meth:`PostgresFeedbackStore.append_once` reports whether this call stored the record, from
  the same statement, so two replicas racing on one idempotency key store it once.
* :meth:`PostgresFeedbackStore.read` returns every record once in the JSONL store's order
  (``(created_at, record_id)``), so exports are identical whichever store they come from.

There are no shards, torn lines or Hub sync here: the database is the shared, durable copy,
and ``feedback export --push-to-hub`` publishes a dataset from it.

It knows SQL and records; it does not know gradio or how records are exported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from workbench.database import Database
from workbench.errors import FeedbackError
from workbench.feedback.record import FeedbackRecord, validate_records
from workbench.feedback.store import BadLine, ReadResult

if TYPE_CHECKING:
    from workbench.catalog import Catalog

_INSERT = """
INSERT INTO feedback_records (record_id, created_at, payload)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]::json[])
ON CONFLICT (record_id) DO NOTHING
RETURNING record_id
"""


class PostgresFeedbackStore:
    """Feedback records in PostgreSQL (table ``feedback_records``).

    Args:
        database: a :class:`~workbench.database.Database` (shared with the project store) or its URL.
        catalog: when given, every item id of an appended record must exist in it.
    """

    def __init__(self, database: Database | str, *, catalog: Catalog | None = None):
        self.db = database if isinstance(database, Database) else Database(database)
        self.catalog = catalog
        #: Called with the records each write stored (the services count them for ``/metrics``).
        self.on_append: Callable[[list[FeedbackRecord]], None] | None = None

    def __repr__(self) -> str:
        return f"PostgresFeedbackStore({self.db.location!r})"

    @property
    def location(self) -> str:
        """Where the records are (the database URL without its password)."""
        return self.db.location

    # writing ----------------------------------------------------------
    def append(self, record: FeedbackRecord) -> str:
        """Validate and store one record; return its ``record_id`` (a retry stores nothing new).

        Raises:
            FeedbackError: the record is invalid or the database refused the write (nothing saved).
        """
        return self.append_many([record])[0]

    def append_once(self, record: FeedbackRecord) -> tuple[str, bool]:
        """Store ``record`` unless its ``record_id`` is stored; ``(record_id, written)``."""
        return record.record_id, bool(self._insert([record]))

    def append_many(self, records: Iterable[FeedbackRecord]) -> list[str]:
        """Validate all ``records``, then store them in one transaction (none if any is invalid)."""
        records = list(records)
        self._insert(records)
        return [r.record_id for r in records]

    def _insert(self, records: list[FeedbackRecord]) -> list[FeedbackRecord]:
        """Insert the records not stored yet; return those this call stored."""
        import psycopg

        validate_records(records, self.catalog)
        if not records:
            return []
        columns = ([r.record_id for r in records], [r.to_dict()["created_at"] for r in records],
                   [json.dumps(r.to_dict(), ensure_ascii=False, allow_nan=False) for r in records])
        try:
            with self.db.transaction() as conn:
                stored = {row[0] for row in conn.execute(_INSERT, columns).fetchall()}
        except psycopg.Error as exc:
            raise FeedbackError(f"{self.location}: could not save feedback ({exc}); nothing was acknowledged") from exc
        written = [r for r in records if r.record_id in stored]
        if written and self.on_append is not None:
            self.on_append(written)
        return written

    def close(self) -> None:
        """Close this process's connections (the records are already committed)."""
        self.db.close()

    def __enter__(self) -> PostgresFeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # reading ----------------------------------------------------------
    def read(self) -> ReadResult:
        """Every record once, sorted by ``(created_at, record_id)`` like the JSONL store.

        A row that no longer parses (edited by hand) is reported in ``invalid_lines`` with its id.
        """
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT record_id, payload FROM feedback_records").fetchall()
        records, invalid = [], []
        for record_id, payload in rows:
            try:
                records.append(FeedbackRecord.from_dict(payload, f"record {record_id}"))
            except FeedbackError as exc:
                invalid.append(BadLine(f"{self.location} feedback_records[{record_id}]", 0, str(exc)))
        records.sort(key=lambda r: (r.created, r.record_id))
        return ReadResult(tuple(records), invalid_lines=tuple(invalid))

    def __len__(self) -> int:
        with self.db.transaction() as conn:
            return conn.execute("SELECT COUNT(*) FROM feedback_records").fetchone()[0]
