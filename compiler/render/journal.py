"""A durable SQLite journal of render submissions, so a paid task is never lost and never paid for twice."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

# --- states ------------------------------------------------------------------

PREPARED = "PREPARED"
SUBMITTED = "SUBMITTED"
UNKNOWN_SUBMIT = "UNKNOWN_SUBMIT"
PENDING = "PENDING"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
DOWNLOADED = "DOWNLOADED"
FAILED = "FAILED"
CANCELED = "CANCELED"
EXPIRED = "EXPIRED"
SUBMIT_REJECTED = "SUBMIT_REJECTED"

# Every legal move of a row, and the only place they are defined.
TRANSITIONS: dict[str, frozenset[str]] = {
    # The submit request is about to go out; its answer decides what we know.
    PREPARED: frozenset({SUBMITTED, UNKNOWN_SUBMIT, SUBMIT_REJECTED}),
    # A task listing could resolve it (found: SUBMITTED, provably absent); scenec does not list tasks yet, so
    # `--force` is the way on; the edges are kept for that later step.
    # and past the 24 h task retention (EXPIRED). Never resubmitted from here.
    UNKNOWN_SUBMIT: frozenset({SUBMITTED, EXPIRED}),
    # EXPIRED here means the query answered UNKNOWN: the task id is past 24 h.
    SUBMITTED: frozenset({PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, EXPIRED}),
    # A repeated status is a normal poll (it refreshes updated_at). RUNNING may
    # go back to PENDING because the vendor does not promise monotonic statuses
    # and a poll of a paid task must never crash on that.
    PENDING: frozenset({PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, EXPIRED}),
    RUNNING: frozenset({PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, EXPIRED}),
    # EXPIRED: the 24 h video URL lapsed before the download finished.
    SUCCEEDED: frozenset({DOWNLOADED, EXPIRED}),
    # Re-downloading a lost output from a still valid URL re-records it.
    DOWNLOADED: frozenset({DOWNLOADED}),
    FAILED: frozenset(),
    CANCELED: frozenset(),
    EXPIRED: frozenset(),
    SUBMIT_REJECTED: frozenset(),
}

STATES: frozenset[str] = frozenset(TRANSITIONS)
TERMINAL: frozenset[str] = frozenset({DOWNLOADED, FAILED, CANCELED, EXPIRED, SUBMIT_REJECTED})
# States whose task exists at the vendor and must be polled until it ends.
POLLABLE: frozenset[str] = frozenset({SUBMITTED, PENDING, RUNNING})
# States where a request may have gone out but we hold no task id.
UNRESOLVED: frozenset[str] = frozenset({PREPARED, UNKNOWN_SUBMIT})
FAILURE_STATES: frozenset[str] = frozenset({FAILED, CANCELED, EXPIRED})
STATUS_STATES: frozenset[str] = frozenset({PENDING, RUNNING})

# Several scenec processes may render at once; a writer waits this long for
# another's write lock instead of failing.
BUSY_TIMEOUT_S = 30.0


class JournalError(Exception):
    """The journal file cannot be used (e.g. written by a newer scenec)."""


class IllegalTransition(Exception):
    """A state change that TRANSITIONS forbids: a bug in the caller, not bad user input."""

    def __init__(self, rid: int, current: str, target: str) -> None:
        super().__init__(f"render {rid}: illegal transition {current} -> {target}")
        self.rid = rid
        self.current = current
        self.target = target


@dataclass(frozen=True)
class Render:
    """One row of the journal: one submission attempt of one scene."""

    id: int
    scene: str
    payload_sha256: str
    media_sha256: str | None
    payload_json: str
    state: str
    task_id: str | None
    request_id: str | None
    video_url: str | None
    url_expires_at: float | None
    usage_json: str | None
    timings_json: str | None
    output_path: str | None
    output_bytes: int | None
    output_sha256: str | None
    code: str | None
    message: str | None
    created_at: float
    submitted_at: float | None
    finished_at: float | None
    downloaded_at: float | None
    updated_at: float

    @property
    def usage(self) -> dict[str, Any] | None:
        return None if self.usage_json is None else json.loads(self.usage_json)

    @property
    def timings(self) -> dict[str, Any] | None:
        return None if self.timings_json is None else json.loads(self.timings_json)

    def url_valid(self, now: float) -> bool:
        """Whether the result URL can still be downloaded at `now`."""
        return (
            self.video_url is not None
            and self.url_expires_at is not None
            and self.url_expires_at > now
        )


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Render))
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM renders"

# --- schema and migrations ---------------------------------------------------

_STATE_LIST = ", ".join(f"'{s}'" for s in sorted(STATES))

_SCHEMA_V1 = (
    f"""
    CREATE TABLE renders (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: max id is newest
        scene          TEXT NOT NULL,
        payload_sha256 TEXT NOT NULL,
        media_sha256   TEXT,
        payload_json   TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ({_STATE_LIST})),
        task_id        TEXT,
        request_id     TEXT,
        video_url      TEXT,
        url_expires_at REAL,
        usage_json     TEXT,
        timings_json   TEXT,
        output_path    TEXT,
        output_bytes   INTEGER,
        output_sha256  TEXT,
        code           TEXT,
        message        TEXT,
        created_at     REAL NOT NULL,
        submitted_at   REAL,
        finished_at    REAL,
        downloaded_at  REAL,
        updated_at     REAL NOT NULL
    )
    """,
    "CREATE INDEX renders_scene ON renders (scene, id)",
    "CREATE INDEX renders_payload ON renders (payload_sha256, id)",
    "CREATE INDEX renders_state ON renders (state)",
    """
    CREATE TABLE uploads (
        sha256     TEXT PRIMARY KEY,
        url        TEXT NOT NULL,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL
    )
    """,
)

# MIGRATIONS[i] takes the schema from user_version i to i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION, one transaction per step; return the version.

    The connection must be in autocommit mode (isolation_level=None). BEGIN
    IMMEDIATE makes concurrent openers queue, and the version is re-read under the
    lock so a step is never applied twice.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"journal schema version {version} is newer than this scenec "
                    f"understands ({SCHEMA_VERSION}); upgrade scenec"
                )
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return version
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            # user_version lives in the database header, so it commits with the step.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so every write is
    # exactly one transaction, committed before the writer returns.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"cannot put {path} in WAL mode (got {mode!r})")
        # FULL: a commit is on disk before we send the request it announces.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


# --- the journal -------------------------------------------------------------


class Journal:
    """The render journal at <project>/.scenec/journal.sqlite3."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        secrets: tuple[str, ...],
        clock: Callable[[], float],
    ) -> None:
        self._conn = conn
        self.path = path
        self._secrets = secrets
        self._clock = clock

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> Journal:
        path = Path(path)
        # Empty strings are dropped: every value "contains" them.
        kept = tuple(s for s in secrets if s and s.strip())
        return cls(_connect(path), path, kept, clock)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def project_root(self) -> Path:
        """The directory relative output paths are resolved against (parent of .scenec/)."""
        parent = self.path.resolve().parent
        return parent.parent if parent.name == ".scenec" else parent

    # --- internals -----------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so a read-check-update (a
        # transition) cannot interleave with another process's.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            # Also covers a failed COMMIT: never leave a transaction open.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def _guard(self, values: Iterable[object]) -> None:
        """Refuse to write any string containing a configured secret (e.g. the API key)."""
        for value in values:
            if not isinstance(value, str):
                continue
            for secret in self._secrets:
                # Also the JSON-escaped form, in case the value is serialized JSON.
                if secret in value or json.dumps(secret)[1:-1] in value:
                    # Never echo the secret or the value: the message may be logged.
                    raise ValueError("refusing to write a configured secret to the journal")

    def _transition(self, rid: int, target: str, changes: dict[str, object]) -> None:
        assert set(changes) <= set(COLUMNS), changes  # column names come from code only
        self._guard(changes.values())
        now = self._clock()
        with self._write() as conn:
            row = conn.execute("SELECT state FROM renders WHERE id = ?", (rid,)).fetchone()
            if row is None:
                raise KeyError(f"no render {rid} in the journal")
            current = row[0]
            if target not in TRANSITIONS[current]:
                raise IllegalTransition(rid, current, target)
            values = {"state": target, "updated_at": now, **changes}
            assignments = ", ".join(f"{name} = ?" for name in values)
            conn.execute(
                f"UPDATE renders SET {assignments} WHERE id = ?", (*values.values(), rid)
            )

    def _rows(self, where: str = "", params: tuple[object, ...] = ()) -> list[Render]:
        cursor = self._conn.execute(f"{_SELECT} {where}", params)
        return [Render(*row) for row in cursor.fetchall()]

    def _output_intact(self, render: Render) -> bool:
        """The recorded output file still exists with the recorded size."""
        if render.output_path is None or render.output_bytes is None:
            return False
        path = Path(render.output_path)
        if not path.is_absolute():
            path = self.project_root / path
        try:
            return path.stat().st_size == render.output_bytes
        except OSError:
            return False

    # --- writers -------------------------------------------------------------

    def prepare(
        self, scene: str, payload_sha256: str, payload_json: str, media_sha256: str | None
    ) -> int:
        """Record a submission about to be sent; must be called BEFORE the request."""
        self._guard((scene, payload_sha256, payload_json, media_sha256))
        now = self._clock()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO renders (scene, payload_sha256, media_sha256, payload_json,"
                " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (scene, payload_sha256, media_sha256, payload_json, PREPARED, now, now),
            )
            rid = cursor.lastrowid
        assert rid is not None
        return rid

    def mark_submitted(self, rid: int, task_id: str, request_id: str | None) -> None:
        self._transition(
            rid,
            SUBMITTED,
            {"task_id": task_id, "request_id": request_id, "submitted_at": self._clock()},
        )

    def mark_unknown_submit(self, rid: int, message: str) -> None:
        self._transition(rid, UNKNOWN_SUBMIT, {"message": message})

    def mark_rejected(self, rid: int, code: str, message: str, request_id: str | None) -> None:
        self._transition(
            rid,
            SUBMIT_REJECTED,
            {
                "code": code,
                "message": message,
                "request_id": request_id,
                "finished_at": self._clock(),
            },
        )

    def mark_status(self, rid: int, status: str) -> None:
        if status not in STATUS_STATES:
            raise ValueError(f"mark_status takes PENDING or RUNNING, not {status!r}")
        self._transition(rid, status, {})

    def mark_succeeded(
        self,
        rid: int,
        video_url: str,
        url_expires_at: float,
        usage: dict[str, Any] | None,
        timings: dict[str, Any],
    ) -> None:
        self._transition(
            rid,
            SUCCEEDED,
            {
                "video_url": video_url,
                "url_expires_at": float(url_expires_at),
                "usage_json": None if usage is None else _dumps(usage),
                "timings_json": _dumps(timings),
                "finished_at": self._clock(),
            },
        )

    def mark_downloaded(self, rid: int, output_path: str, nbytes: int, sha256: str) -> None:
        self._transition(
            rid,
            DOWNLOADED,
            {
                "output_path": str(output_path),
                "output_bytes": int(nbytes),
                "output_sha256": sha256,
                "downloaded_at": self._clock(),
            },
        )

    def mark_failed(self, rid: int, state: str, code: str | None, message: str | None) -> None:
        if state not in FAILURE_STATES:
            raise ValueError(f"mark_failed takes FAILED, CANCELED or EXPIRED, not {state!r}")
        self._transition(
            rid, state, {"code": code, "message": message, "finished_at": self._clock()}
        )

    # --- readers -------------------------------------------------------------

    def get(self, rid: int) -> Render:
        rows = self._rows("WHERE id = ?", (rid,))
        if not rows:
            raise KeyError(f"no render {rid} in the journal")
        return rows[0]

    def latest(self, scene: str) -> Render | None:
        rows = self._rows("WHERE scene = ? ORDER BY id DESC LIMIT 1", (scene,))
        return rows[0] if rows else None

    def find_reusable(self, payload_sha256: str, media_sha256: str | None) -> Render | None:
        """The newest row a new render of this exact payload should reuse instead of paying again.

        Candidates have the same payload hash and the same media hash (None matches
        only None: unknown media contents are not assumed equal to known ones). The
        newest candidate that is in flight (PREPARED, UNKNOWN_SUBMIT, SUBMITTED,
        PENDING, RUNNING), SUCCEEDED with a URL still valid, or DOWNLOADED with its
        output file present at the recorded size wins. Terminal failures never do.
        """
        now = self._clock()
        candidates = self._rows(
            "WHERE payload_sha256 = ? AND media_sha256 IS ? ORDER BY id DESC",
            (payload_sha256, media_sha256),
        )
        for render in candidates:
            if render.state in POLLABLE or render.state in UNRESOLVED:
                return render
            if render.state == SUCCEEDED and render.url_valid(now):
                return render
            if render.state == DOWNLOADED and self._output_intact(render):
                return render
        return None

    def in_flight(self) -> list[Render]:
        """Rows holding a task id whose render has not reached a terminal state.

        That is SUBMITTED, PENDING, RUNNING (to poll) and SUCCEEDED (to download):
        each is paid for or about to be, and is lost if nobody comes back for it.
        """
        states = sorted(POLLABLE | {SUCCEEDED})
        marks = ", ".join("?" for _ in states)
        return self._rows(
            f"WHERE task_id IS NOT NULL AND state IN ({marks}) ORDER BY id", tuple(states)
        )

    def all(self, scene: str | None = None) -> list[Render]:
        if scene is None:
            return self._rows("ORDER BY id")
        return self._rows("WHERE scene = ? ORDER BY id", (scene,))

    # --- uploads cache -------------------------------------------------------

    def upload_lookup(self, sha256: str, now: float | None = None) -> str | None:
        """The oss:// URL of an earlier upload of these exact bytes, if it is still valid at `now`."""
        at = self._clock() if now is None else now
        row = self._conn.execute(
            "SELECT url FROM uploads WHERE sha256 = ? AND expires_at > ?", (sha256, at)
        ).fetchone()
        return None if row is None else row[0]

    def upload_remember(self, sha256: str, url: str, expires_at: float) -> None:
        self._guard((sha256, url))
        now = self._clock()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO uploads (sha256, url, expires_at, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (sha256) DO UPDATE SET url = excluded.url,"
                " expires_at = excluded.expires_at, created_at = excluded.created_at",
                (sha256, url, float(expires_at), now),
            )


def _dumps(value: object) -> str:
    # Sorted and compact so equal dicts store equal text.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- what `scenec render` does with a scene ----------------------------------

Decision = Literal["skip", "resume_poll", "resume_download", "submit", "blocked_unknown"]


def decide(
    previous: Render | None,
    *,
    force: bool,
    output_exists: bool,
    now: float | None = None,
) -> Decision:
    """What `scenec render` does for a scene, given its newest matching journal row.

    `output_exists` says whether the row's output file is present (with the
    recorded size); `now` defaults to the wall clock and decides URL expiry.

    - no row                                      -> "submit"
    - SUBMITTED / PENDING / RUNNING               -> "resume_poll", even with force: a
      paid task in flight is never abandoned silently; force only re-renders
      finished ones.
    - PREPARED                                    -> "blocked_unknown" unless force
      ("submit"): the process died around the send, and we cannot know whether
      the request went out, so a new one might pay twice.
    - UNKNOWN_SUBMIT                              -> "blocked_unknown" unless force
      ("submit"): the submit was sent and its answer lost; only --force resolves it.
    - SUCCEEDED, URL still valid                  -> "resume_download", even with force:
      the video is paid for and fetching it is free; force re-renders once it is
      downloaded.
    - SUCCEEDED, URL expired                      -> "submit" (the caller first records
      EXPIRED on the row; runner.plan_job then refuses without --force: that video was paid for).
    - DOWNLOADED, output exists, not force        -> "skip"
    - DOWNLOADED, output missing, URL still valid,
      not force                                   -> "resume_download": fetching the
      paid video again costs nothing.
    - DOWNLOADED otherwise (force, or output
      missing and URL expired)                    -> "submit"
    - FAILED / CANCELED / EXPIRED / SUBMIT_REJECTED -> "submit": nothing was billed or
      the result is gone.
    """
    if previous is None:
        return "submit"
    at = time.time() if now is None else now
    state = previous.state
    if state in POLLABLE:
        return "resume_poll"
    if state in UNRESOLVED:
        return "submit" if force else "blocked_unknown"
    if state == SUCCEEDED:
        return "resume_download" if previous.url_valid(at) else "submit"
    if state == DOWNLOADED:
        if force:
            return "submit"
        if output_exists:
            return "skip"
        return "resume_download" if previous.url_valid(at) else "submit"
    return "submit"
