"""The feedback store: append-only JSONL shards that never lose or duplicate a record.

Layout: ``<data_dir>/shard-<host>-<pid>-<uuid>.jsonl``. Each store object in
each process writes its own shard, so writers never share a file. One append
is one ``os.write`` of one complete line (``O_APPEND``) followed by ``fsync``;
:meth:`JsonlFeedbackStore.append` returns only after both, so an acknowledged record
survives a killed process or a power cut.

Reading merges every ``shard-*.jsonl`` under the data directory (hidden folders
skipped), so shards downloaded back from the Hub can sit beside local ones:

* a torn last line (a crash mid-write) is reported in :attr:`ReadResult.torn_lines`
  and skipped; every complete line before it is kept;
* a record seen twice (same ``record_id``: a re-downloaded shard, a retried
  append) is returned once and counted in :attr:`ReadResult.duplicates`;
* records come back sorted by ``(created_at, record_id)``, the same order
  whatever the shard layout.

After a failed write the shard is abandoned and the next append opens a new
one, so a new record is never glued onto a torn line.

Optional Hub sync (:meth:`JsonlFeedbackStore.start_hub_sync`) runs a
``huggingface_hub.CommitScheduler`` over the data directory; appends take the
scheduler's lock so that an upload never snapshots half a line.

It knows files and records; it does not know gradio or how records are exported.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workbench.errors import FeedbackError
from workbench.feedback.record import FeedbackRecord, validate_records

if TYPE_CHECKING:
    from workbench.catalog import Catalog
    from workbench.config import Settings

#: A shard is closed and a new one started past this size, so that Hub sync
#: (which re-uploads a changed file whole) keeps uploading small files.
MAX_SHARD_BYTES = 8 * 1024 * 1024
#: Minutes between background uploads when Hub sync is on.
HUB_SYNC_EVERY_MINUTES = 5.0
#: Folder of the Hub dataset repo the shards are uploaded to.
HUB_PATH_IN_REPO = "data"
#: Record ids derived from a client's idempotency key live in this UUID namespace (uuid5).
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c2b8e-3d4a-5e6f-9a0b-1c2d3e4f5a6b")
#: Longest idempotency key a client may send.
MAX_IDEMPOTENCY_KEY_CHARS = 200
SHARD_PREFIX = "shard-"
SHARD_SUFFIX = ".jsonl"


def idempotent_record_id(key: str, *scope: str) -> str:
    """The record id for a client's idempotency ``key`` within ``scope`` (e.g. session and annotator).

    Deterministic (uuid5), so a retry after a lost reply, even to a restarted server, names the
    same record, and :meth:`JsonlFeedbackStore.append_once` (or any reader's duplicate handling)
    keeps one. The scope keeps two clients' equal keys apart.

    Raises:
        FeedbackError: the key is not 1-200 printable characters.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        shown = key[:80] if isinstance(key, str) else key
        raise FeedbackError(
            f"idempotency_key: expected 1-{MAX_IDEMPOTENCY_KEY_CHARS} printable characters, got {shown!r}"
        )
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, "\x1f".join((*scope, key.strip()))))


@dataclass(frozen=True)
class BadLine:
    """A line that did not yield a record: where it is and why."""

    path: str
    line: int  # 1-based
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ReadResult:
    """What :meth:`JsonlFeedbackStore.read` found.

    Attributes:
        records: every distinct record, sorted by ``(created_at, record_id)``.
        torn_lines: incomplete last lines of shards (a write cut short by a crash).
        invalid_lines: complete lines that are not a valid record (damaged files).
        duplicates: lines skipped because their ``record_id`` was already read.
        shards: how many shard files were read.
        conflicts: ids read twice with *different* content (a shard edited by hand);
            the copy in the first shard (by path) is kept.
    """

    records: tuple[FeedbackRecord, ...]
    torn_lines: tuple[BadLine, ...] = ()
    invalid_lines: tuple[BadLine, ...] = ()
    duplicates: int = 0
    shards: int = 0
    conflicts: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[FeedbackRecord]:
        return iter(self.records)

    @property
    def problems(self) -> tuple[BadLine, ...]:
        return self.torn_lines + self.invalid_lines


@dataclass
class _ShardCache:
    """Records parsed from the complete lines of one shard, up to byte ``offset``."""

    offset: int = 0
    lines: int = 0
    records: list[tuple[FeedbackRecord, int]] | None = None  # (record, line number)
    invalid: list[BadLine] | None = None
    ino: int = -1


class RecordStore(Protocol):
    """What the app, the use cases, the exports and the CLI need of a feedback store.

    :class:`JsonlFeedbackStore` (JSONL shards, the default) and
    :class:`~workbench.feedback.pg_store.PostgresFeedbackStore` (``WORKBENCH_DATABASE_URL``)
    implement it; tests/feedback/test_feedback_store.py runs both through the same checks. Writes are
    idempotent by ``record_id``: a retried write never yields a second record.
    """

    catalog: Catalog | None
    on_append: Callable[[list[FeedbackRecord]], None] | None

    @property
    def location(self) -> str: ...
    def append(self, record: FeedbackRecord) -> str: ...
    def append_once(self, record: FeedbackRecord) -> tuple[str, bool]: ...
    def append_many(self, records: Iterable[FeedbackRecord]) -> list[str]: ...
    def read(self) -> ReadResult: ...
    def __len__(self) -> int: ...
    def close(self) -> None: ...


class JsonlFeedbackStore:
    """Append-only, crash-safe store of :class:`FeedbackRecord` under ``data_dir``.

    Safe to share between threads of one process and to use from many processes
    at once (each writes its own shard). Creating the store touches nothing;
    the directory and the shard are created on the first append.

    Args:
        data_dir: folder of the shards.
        catalog: when given, every item id of an appended record must exist in it.
    """

    def __init__(self, data_dir: str | Path, *, catalog: Catalog | None = None):
        self.data_dir = Path(data_dir)
        self.catalog = catalog
        self._lock = threading.Lock()  # guards this process's shard
        self._read_lock = threading.Lock()  # guards the read cache; reads never block appends
        self._once_lock = threading.Lock()  # append_once: check and write as one step
        self._fd: int | None = None
        self._shard: Path | None = None
        self._shard_bytes = 0
        self._pid = -1
        self._cache: dict[Path, _ShardCache] = {}
        self._scheduler: Any = None
        #: Called with the records of each durable write (the services count them for ``/metrics``).
        self.on_append: Callable[[list[FeedbackRecord]], None] | None = None

    def __repr__(self) -> str:
        sync = f", hub={self._scheduler.repo_id!r}" if self._scheduler is not None else ""
        return f"JsonlFeedbackStore({str(self.data_dir)!r}{sync})"

    @property
    def location(self) -> str:
        """Where the records are: the shards' folder."""
        return str(self.data_dir)

    # writing ----------------------------------------------------------
    @property
    def shard_path(self) -> Path | None:
        """The shard this process writes to (``None`` before the first append)."""
        return self._shard if self._pid == os.getpid() else None

    def append(self, record: FeedbackRecord) -> str:
        """Validate and durably save one record; return its ``record_id``.

        Returns only after the line is written and fsynced. Appending the same
        record again (a retry) is harmless: readers return each ``record_id`` once.

        Raises:
            FeedbackError: the record is invalid (nothing is written) or the disk write failed.
        """
        return self.append_many([record])[0]

    def append_once(self, record: FeedbackRecord) -> tuple[str, bool]:
        """Save ``record`` unless a record with its ``record_id`` is already stored.

        For client retries with an idempotency key (:func:`idempotent_record_id`): the second
        call writes nothing. Returns ``(record_id, written)``.
        """
        with self._once_lock:
            if any(r.record_id == record.record_id for r in self.read().records):
                return record.record_id, False
            return self.append(record), True

    def append_many(self, records: Iterable[FeedbackRecord]) -> list[str]:
        """Validate all ``records`` first, then save them with one write and one fsync.

        If any record is invalid, nothing is written.
        """
        records = list(records)
        validate_records(records, self.catalog)
        payload = b"".join(encode_line(record) for record in records)
        if not payload:
            return []
        with self._lock:
            self._write(payload)
        if self.on_append is not None:
            self.on_append(records)
        return [r.record_id for r in records]

    def _write(self, data: bytes) -> None:
        sync_lock = getattr(self._scheduler, "lock", None)
        for _attempt in range(2):
            fd = self._shard_fd(len(data))
            if not self._shard_in_place(fd):
                # Deleted or moved away (a cleanup while the app runs): a write there
                # would be acknowledged yet invisible. Start a new shard instead.
                self._abandon_shard()
                continue
            try:
                if sync_lock is not None:
                    with sync_lock:
                        self._write_all(fd, data)
                else:
                    self._write_all(fd, data)
            except OSError as exc:
                # The shard may now end in a torn line: never append to it again.
                self._abandon_shard()
                raise FeedbackError(
                    f"{self.data_dir}: could not save feedback ({exc.strerror or exc}); nothing was acknowledged"
                ) from exc
            if self._shard_in_place(fd):
                return
            self._abandon_shard()  # vanished during the write: write it again, readers dedupe by id
        raise FeedbackError(f"{self.data_dir}: feedback shards keep disappearing; nothing was acknowledged")

    def _shard_in_place(self, fd: int) -> bool:
        """Whether this process's open shard is still the file at its path."""
        try:
            return self._shard is not None and os.stat(self._shard).st_ino == os.fstat(fd).st_ino
        except OSError:
            return False

    def _write_all(self, fd: int, data: bytes) -> None:
        written = os.write(fd, data)
        if written != len(data):
            # Regular files only write short on errors such as a full disk; the
            # remainder could be retried, but a line split over two writes is
            # exactly what a concurrent upload must not see. Treat it as a failure.
            raise OSError(0, f"short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
        self._shard_bytes += written

    def _shard_fd(self, incoming: int) -> int:
        pid = os.getpid()
        if self._fd is not None and pid != self._pid:
            # A forked child inherited the parent's descriptor: it writes its own shard.
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
        if self._fd is not None and self._shard_bytes + incoming > MAX_SHARD_BYTES and self._shard_bytes:
            self._abandon_shard()
        if self._fd is None:
            try:
                if not self.data_dir.is_dir():
                    self.data_dir.mkdir(parents=True, exist_ok=True)
                    _fsync_dir(self.data_dir.parent)
                host = "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())[:40]
                path = self.data_dir / f"{SHARD_PREFIX}{host}-{pid}-{uuid.uuid4().hex[:12]}{SHARD_SUFFIX}"
                self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
                _fsync_dir(self.data_dir)  # the new file's directory entry must survive a crash too
            except OSError as exc:
                self._fd = None
                raise FeedbackError(
                    f"{self.data_dir}: cannot create a feedback shard ({exc.strerror or exc})"
                ) from exc
            self._shard, self._pid, self._shard_bytes = path, pid, 0
        return self._fd

    def _abandon_shard(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd = None

    def close(self) -> None:
        """Stop Hub sync (after a last upload) and close this process's shard."""
        with self._lock:
            self._abandon_shard()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            try:
                scheduler.trigger().result()
            finally:
                scheduler.stop()

    def __enter__(self) -> JsonlFeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # reading ----------------------------------------------------------
    def shards(self) -> list[Path]:
        """Every shard (``shard-*.jsonl``) under the data directory, hidden folders skipped, in path order.

        Other files (an export written next to the shards, notes) are ignored.
        """
        if not self.data_dir.is_dir():
            return []
        found = []
        for path in self.data_dir.rglob(f"{SHARD_PREFIX}*{SHARD_SUFFIX}"):
            rel = path.relative_to(self.data_dir)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            found.append(path)
        return sorted(found, key=lambda p: str(p.relative_to(self.data_dir)))

    def read(self) -> ReadResult:
        """Every record, each once, sorted by ``(created_at, record_id)``.

        Never raises for damaged lines: torn and invalid lines are reported in
        the result and every complete valid record is returned.
        """
        with self._read_lock:
            paths = self.shards()
            for gone in set(self._cache) - set(paths):
                del self._cache[gone]
            by_id: dict[str, FeedbackRecord] = {}
            torn: list[BadLine] = []
            invalid: list[BadLine] = []
            duplicates = 0
            conflicts: list[str] = []
            for path in paths:
                parsed, tail_records, tail_problem = self._read_shard(path)
                invalid.extend(parsed.invalid or [])
                if tail_problem is not None:
                    torn.append(tail_problem)
                for record, _line in [*(parsed.records or []), *tail_records]:
                    first = by_id.get(record.record_id)
                    if first is not None:
                        duplicates += 1
                        if first != record:
                            conflicts.append(record.record_id)
                    else:
                        by_id[record.record_id] = record
        records = sorted(by_id.values(), key=lambda r: (r.created, r.record_id))
        return ReadResult(tuple(records), tuple(torn), tuple(invalid), duplicates, len(paths), tuple(conflicts))

    def __len__(self) -> int:
        return len(self.read().records)

    def _read_shard(
        self, path: Path
    ) -> tuple[_ShardCache, list[tuple[FeedbackRecord, int]], BadLine | None]:
        """Parse the new complete lines of ``path`` (cached) and look at its unterminated tail."""
        try:
            with open(path, "rb") as f:
                stat = os.fstat(f.fileno())
                cache = self._cache.get(path)
                if cache is None or cache.ino != stat.st_ino or stat.st_size < cache.offset:
                    cache = _ShardCache(records=[], invalid=[], ino=stat.st_ino)
                    self._cache[path] = cache
                f.seek(cache.offset)
                data = f.read()
        except OSError as exc:
            bad = BadLine(str(path), 0, f"cannot read shard ({exc.strerror or exc})")
            return _ShardCache(records=[], invalid=[bad]), [], None
        end = data.rfind(b"\n") + 1  # bytes up to the last complete line
        assert cache.records is not None and cache.invalid is not None
        for raw in data[:end].split(b"\n")[:-1]:
            cache.lines += 1
            if not raw.strip():
                continue
            try:
                cache.records.append((parse_line(raw), cache.lines))
            except FeedbackError as exc:
                cache.invalid.append(BadLine(str(path), cache.lines, str(exc)))
        cache.offset += end
        tail = data[end:]
        if not tail.strip():
            return cache, [], None
        # An unterminated last line: a whole record whose newline was lost is kept;
        # anything else is a write cut short. It is re-examined on every read (a
        # writer may still be finishing it) and never cached.
        line = cache.lines + 1
        try:
            return cache, [(parse_line(tail), line)], None
        except FeedbackError:
            return cache, [], BadLine(str(path), line, f"torn line ({len(tail)} bytes without a newline)")

    # Hub sync -----------------------------------------------------------
    @property
    def hub_sync(self) -> Any:
        """The running ``CommitScheduler`` (or ``None`` when Hub sync is off)."""
        return self._scheduler

    def start_hub_sync(
        self,
        repo_id: str,
        *,
        token: str | None = None,
        every_minutes: float = HUB_SYNC_EVERY_MINUTES,
        scheduler_cls: Any = None,
    ) -> Any:
        """Upload the shards to the Hub dataset ``repo_id`` in the background.

        Uses ``huggingface_hub.CommitScheduler`` (``repo_type="dataset"``, shards under
        ``data/``). The repo is created (private) if it does not exist, and given a
        dataset card declaring the record features (unless it has a README already),
        so that ``load_dataset(repo_id)`` reads typed rows. ``scheduler_cls`` replaces
        the scheduler class (tests inject a fake).

        Raises:
            FeedbackError: the scheduler could not start (no network, bad token, bad repo id).
        """
        if self._scheduler is not None:
            raise FeedbackError(f"{self}: Hub sync already running")
        if scheduler_cls is None:
            from huggingface_hub import CommitScheduler as scheduler_cls
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            scheduler = scheduler_cls(
                repo_id=repo_id,
                repo_type="dataset",
                folder_path=self.data_dir,
                path_in_repo=HUB_PATH_IN_REPO,
                every=every_minutes,
                token=token or None,
                private=True,
                allow_patterns=[f"{SHARD_PREFIX}*{SHARD_SUFFIX}"],  # our shards, not copies in subfolders
            )
        except Exception as exc:  # network, auth and validation errors all stop the sync
            raise FeedbackError(
                f"feedback_hub_repo {repo_id!r}: cannot start Hub sync ({type(exc).__name__}: {exc}); "
                "check the repo id and HF_TOKEN, or unset FEEDBACK_HUB_REPO to save locally only"
            ) from exc
        self._scheduler = scheduler
        api = getattr(scheduler, "api", None)
        if api is not None:
            from workbench.feedback.hub import ensure_dataset_card

            ensure_dataset_card(api, getattr(scheduler, "repo_id", repo_id), HUB_PATH_IN_REPO)
        return scheduler


def open_store(settings: Settings, catalog: Catalog | None = None, *, scheduler_cls: Any = None) -> JsonlFeedbackStore:
    """The store configured by ``settings``: its data directory, and Hub sync only when
    ``feedback_hub_repo`` is set (nothing touches the network otherwise)."""
    data_dir = settings.resolved_feedback_dir
    existing = next((p for p in (data_dir, *data_dir.absolute().parents) if p.exists()), None)
    if existing is not None and (not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK)):
        # Fail at start-up, not at an annotator's first Save.
        raise FeedbackError(
            f"setting 'feedback_dir': {data_dir} is not writable ({existing} is "
            f"{'not a folder' if not existing.is_dir() else 'read-only'})"
        )
    store = JsonlFeedbackStore(data_dir, catalog=catalog)
    if settings.feedback_hub_repo:
        store.start_hub_sync(
            settings.feedback_hub_repo, token=settings.hf_token or None, scheduler_cls=scheduler_cls
        )
    return store


# ---------------------------------------------------------------------------
# line format


def encode_line(record: FeedbackRecord) -> bytes:
    """One shard line: the record's dict form as compact UTF-8 JSON plus ``\\n``.

    ``json.dumps`` escapes newlines inside strings, so the only ``\\n`` byte is the
    terminator (U+2028 and friends stay raw, which is why lines are split on bytes).
    """
    text = json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def parse_line(raw: bytes, where: str = "record") -> FeedbackRecord:
    """Parse one shard line (with or without its newline).

    Raises:
        FeedbackError: the line is not UTF-8, not JSON, or not a well-formed record.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FeedbackError(f"{where}: not valid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise FeedbackError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    return FeedbackRecord.from_dict(data, where)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems do not support fsync on directories
    finally:
        os.close(fd)
