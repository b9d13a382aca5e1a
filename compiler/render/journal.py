"""A durable SQLite journal of render submissions, so a paid task is never lost and never paid for twice."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from compiler.project import find_project

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
    # The task list resolves it: a matching task is adopted (SUBMITTED); a lookup that finds nothing
    # yet stays UNKNOWN_SUBMIT with the lookup's words in `message`; past the 24 h task retention the
    # list cannot answer (EXPIRED). Never resubmitted from here without --force.
    UNKNOWN_SUBMIT: frozenset({SUBMITTED, UNKNOWN_SUBMIT, EXPIRED}),
    # EXPIRED here means the query answered UNKNOWN: the task id is past 24 h.
    SUBMITTED: frozenset({PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, EXPIRED}),
    # A repeated status is a normal poll (it refreshes updated_at). RUNNING may
    # go back to PENDING because the vendor does not promise monotonic statuses
    # and a poll of a paid task must never crash on that.
    PENDING: frozenset({PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, EXPIRED}),
    RUNNING: frozenset({PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, EXPIRED}),
    # EXPIRED: the 24 h video URL lapsed before the download finished. (A fresh result URL read
    # from the task after a failed download is not a move: mark_fresh_url keeps the state.)
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
    """The journal file cannot be used (corrupt, truncated, a folder, locked, full, or written by a newer scenec)."""


def _unusable(path: Path, error: BaseException) -> JournalError:
    """Our words for an SQLite failure on the journal; what to do about it included."""
    text = str(error)
    if "locked" in text or "busy" in text:
        why = (f"is locked by another process (waited {BUSY_TIMEOUT_S:g} s); wait for the other scenec to finish "
               "and run again")
    elif "full" in text:
        why = "cannot be written: the disk is full; free space and run again (nothing recorded so far is lost)"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        why = (f"is damaged ({text}); scenec will not start a new one over it. Move it aside (keep it: it names "
               "paid tasks), then run again: videos with their .json sidecars are recognised, unknown tasks are "
               "looked up in the task list")
    else:
        why = f"cannot be used: {text}"
    return JournalError(f"the render journal {path} {why}")


class IllegalTransition(Exception):
    """A state change that TRANSITIONS forbids: a bug in the caller, not bad user input."""

    def __init__(self, rid: int, current: str, target: str) -> None:
        super().__init__(f"render {rid}: illegal transition {current} -> {target}")
        self.rid = rid
        self.current = current
        self.target = target


class TaskHeld(Exception):
    """A task id another journal row already follows: adopting it twice would share one paid video."""

    def __init__(self, task_id: str, rid: int) -> None:
        super().__init__(f"task {task_id} already belongs to render #{rid}")
        self.task_id = task_id
        self.rid = rid


# The service keeps a task, and its result URL, 24 h.  A URL's life is counted from when scenec first
# sees SUCCEEDED: that errs late on purpose (a stale guess costs one failed download, an early one
# would re-render, and pay for, a video that could still be fetched).
TASK_LIFE_S = 24 * 3600.0
URL_TTL_S = 24 * 3600.0


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
    # The canonical endpoint the submit went to (schema 2); None in rows journaled before it was kept.
    endpoint: str | None = None

    @property
    def model(self) -> str | None:
        """The model the body names (every target's body does), None when the stored body has none."""
        try:
            body = json.loads(self.payload_json)
        except ValueError:
            return None
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) and model else None

    @property
    def usage(self) -> dict[str, Any] | None:
        return None if self.usage_json is None else json.loads(self.usage_json)

    @property
    def timings(self) -> dict[str, Any] | None:
        return None if self.timings_json is None else json.loads(self.timings_json)

    def past_task_life(self, now: float) -> bool:
        """Whether the service has forgotten the task by `now` (kept 24 h from the submit)."""
        return now - (self.submitted_at or self.created_at) > TASK_LIFE_S

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

# Where a row's submit went, so a refusal can say which settings would settle it (planning.py). Older rows
# keep NULL: their identity is their payload hash, never recomputed, so nothing about them changes.
_SCHEMA_V2 = ("ALTER TABLE renders ADD COLUMN endpoint TEXT",)

# MIGRATIONS[i] takes the schema from user_version i to i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1, _SCHEMA_V2)
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
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
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
    """An open journal; JournalError (with what to do) when the file cannot be used."""
    if path.is_dir():
        raise JournalError(f"the render journal {path} is a folder, not a file; move it aside and run again")
    if not path.exists():
        try:
            _create(path)
        except OSError as error:
            raise JournalError(f"the render journal {path} cannot be created: {error.strerror or error}") from None
    elif path.stat().st_size == 0:
        # scenec creates journals whole (see _create): an empty one was truncated, and its rows are lost.
        raise JournalError(f"the render journal {path} is empty (truncated?); scenec will not silently start a new "
                           "one. Delete it to start afresh: videos with their .json sidecars are still recognised")
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    try:
        _configure(conn)
        migrate(conn)
        _checkpoint(conn)
    except sqlite3.Error as error:
        conn.close()
        raise _unusable(path, error) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _checkpoint(conn: sqlite3.Connection) -> None:
    # After the COMMIT, which is durable in the -wal already: a failed checkpoint must not turn a
    # recorded write into a reported failure (the next commit's checkpoint carries it).
    with contextlib.suppress(sqlite3.Error):
        _checkpoint_now(conn)


def _checkpoint_now(conn: sqlite3.Connection) -> None:
    # The committed pages move into the main file (fsynced under synchronous=FULL). PASSIVE never
    # waits: a reader mid-statement may keep it from finishing (reported, not raised), and the
    # next commit's checkpoint then carries both. TRUNCATE/FULL cost twice as much per commit.
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    # WAL, with every commit checkpointed into the main file before the writer returns (see
    # Journal._write): readers (`scenec status` during a render) never block writers, and the
    # database file alone holds every committed row, so copying it, or deleting the -wal file
    # after a crash, loses nothing. A prepare() returns only after its checkpoint, so the submit
    # it announces is never sent before the row is in the main file.
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"cannot use WAL mode (got {mode!r})")
    # FULL: a commit (and the checkpoint) is on disk before we send the request it announces.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _create(path: Path) -> None:
    """A new journal, whole or not at all: built aside, then linked into place (a concurrent creator wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}.new")
    try:
        conn = sqlite3.connect(str(draft), isolation_level=None)
        try:
            _configure(conn)
            migrate(conn)
        finally:
            conn.close()
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(draft, path)
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    finally:
        draft.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # Also covers a failed COMMIT: never leave a transaction open.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            _checkpoint(self._conn)
        except sqlite3.IntegrityError:
            raise  # a bug in the caller, not an unusable journal
        except sqlite3.Error as error:
            raise _unusable(self.path, error) from None

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
            task_id = changes.get("task_id")
            if task_id is not None:
                # Checked inside the write lock: two rows never follow (and download, and sidecar) one task.
                holder = conn.execute("SELECT id FROM renders WHERE task_id = ? AND id != ?", (task_id, rid)).fetchone()
                if holder is not None:
                    raise TaskHeld(str(task_id), holder[0])
            values = {"state": target, "updated_at": now, **changes}
            assignments = ", ".join(f"{name} = ?" for name in values)
            conn.execute(
                f"UPDATE renders SET {assignments} WHERE id = ?", (*values.values(), rid)
            )

    def _rows(self, where: str = "", params: tuple[object, ...] = ()) -> list[Render]:
        try:
            cursor = self._conn.execute(f"{_SELECT} {where}", params)
            return [Render(*row) for row in cursor.fetchall()]
        except sqlite3.Error as error:
            raise _unusable(self.path, error) from None

    def output_intact(self, render: Render) -> bool:
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
        self, scene: str, payload_sha256: str, payload_json: str, media_sha256: str | None,
        endpoint: str | None = None,
    ) -> int:
        """Record a submission about to be sent (to `endpoint`, canonical); must be called BEFORE the request."""
        self._guard((scene, payload_sha256, payload_json, media_sha256, endpoint))
        now = self._clock()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO renders (scene, payload_sha256, media_sha256, payload_json,"
                " state, created_at, updated_at, endpoint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (scene, payload_sha256, media_sha256, payload_json, PREPARED, now, now, endpoint),
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

    def mark_unknown_submit(self, rid: int, message: str, code: str | None = None) -> None:
        """The submit may have created a task we hold no id for; also re-recorded after each lookup that misses."""
        changes: dict[str, object] = {"message": message}
        if code is not None:
            changes["code"] = code
        self._transition(rid, UNKNOWN_SUBMIT, changes)

    def adopt(self, rid: int, task_id: str, how: str) -> None:
        """An unknown submit's task, found in the task list (or named with --adopt): the row now follows it."""
        self._transition(rid, SUBMITTED, {"task_id": task_id, "submitted_at": self._clock(), "code": "Adopted",
                                          "message": how})

    def mark_fresh_url(self, rid: int, video_url: str, url_expires_at: float) -> None:
        """A new result URL read from the task after a download failed (the row stays SUCCEEDED or DOWNLOADED)."""
        self._guard((video_url,))
        with self._write() as conn:
            updated = conn.execute(
                "UPDATE renders SET video_url = ?, url_expires_at = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
                (video_url, float(url_expires_at), self._clock(), rid, SUCCEEDED, DOWNLOADED)).rowcount
        if not updated:
            raise IllegalTransition(rid, self.get(rid).state, SUCCEEDED)

    def restore_downloaded(self, scene: str, payload_sha256: str, media_sha256: str | None, payload_json: str,
                           task_id: str | None, request_id: str | None, output: tuple[str, int, str]) -> int:
        """A DOWNLOADED row rebuilt from a video and its sidecar, when the journal had lost it."""
        output_path, nbytes, digest = output
        self._guard((scene, payload_json, task_id, request_id, output_path))
        now = self._clock()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO renders (scene, payload_sha256, media_sha256, payload_json, state, task_id, request_id,"
                " output_path, output_bytes, output_sha256, code, message, created_at, downloaded_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (scene, payload_sha256, media_sha256, payload_json, DOWNLOADED, task_id, request_id, output_path,
                 int(nbytes), digest, "Restored", "rebuilt from the video's sidecar", now, now, now))
            rid = cursor.lastrowid
        assert rid is not None
        return rid

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
            if render.state == DOWNLOADED and self.output_intact(render):
                return render
        return None

    def newest(self, payload_sha256: str, media_sha256: str | None) -> Render | None:
        """The newest row of this exact payload and media, whatever its state (None matches only None)."""
        rows = self._rows("WHERE payload_sha256 = ? AND media_sha256 IS ? ORDER BY id DESC LIMIT 1",
                          (payload_sha256, media_sha256))
        return rows[0] if rows else None

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

    def known_task_ids(self) -> set[str]:
        """Every task id the journal holds: a task one row owns is never adopted by another."""
        try:
            return {task_id for (task_id,) in self._conn.execute(
                "SELECT task_id FROM renders WHERE task_id IS NOT NULL AND task_id != ''")}
        except sqlite3.Error as error:
            raise _unusable(self.path, error) from None

    def all(self, scene: str | None = None) -> list[Render]:
        if scene is None:
            return self._rows("ORDER BY id")
        return self._rows("WHERE scene = ? ORDER BY id", (scene,))

    # --- uploads cache -------------------------------------------------------

    def upload_lookup(self, sha256: str, now: float | None = None) -> str | None:
        """The oss:// URL of an earlier upload of these exact bytes, if it is still valid at `now`."""
        at = self._clock() if now is None else now
        try:
            row = self._conn.execute(
                "SELECT url FROM uploads WHERE sha256 = ? AND expires_at > ?", (sha256, at)
            ).fetchone()
        except sqlite3.Error as error:
            raise _unusable(self.path, error) from None
        return None if row is None else row[0]

    def upload_forget(self, urls: Iterable[str]) -> int:
        """Drop cache entries the service says are gone; returns how many went."""
        dropped = 0
        with self._write() as conn:
            for url in urls:
                dropped += conn.execute("DELETE FROM uploads WHERE url = ?", (url,)).rowcount
        return dropped

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

Decision = Literal["skip", "resume_poll", "resume_download", "submit", "reconcile"]


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
    - PREPARED                                    -> "reconcile" unless force
      ("submit"): the process died around the send, and we cannot know whether
      the request went out, so a new one might pay twice: look it up in the task list.
    - UNKNOWN_SUBMIT                              -> "reconcile" unless force
      ("submit"): the submit was sent and its answer lost: look it up in the task list.
    - SUCCEEDED, URL still valid                  -> "resume_download", even with force:
      the video is paid for and fetching it is free; force re-renders once it is
      downloaded.
    - SUCCEEDED, URL expired                      -> "submit" (the caller first records
      EXPIRED on the row; planning.plan_job then refuses without --force: that video was paid for).
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
        return "submit" if force else "reconcile"
    if state == SUCCEEDED:
        return "resume_download" if previous.url_valid(at) else "submit"
    if state == DOWNLOADED:
        if force:
            return "submit"
        if output_exists:
            return "skip"
        return "resume_download" if previous.url_valid(at) else "submit"
    return "submit"


# --- where a project keeps its journal (status and cancel read it without the compiler) -----------------

JOURNAL_FILE = Path(".scenec") / "journal.sqlite3"


def journal_path(project_root: Path) -> Path:
    return project_root / JOURNAL_FILE


def scene_key(path: Path, project_root: Path) -> str:
    """The journal's stable name for a scene: its path relative to the project root (absolute when outside)."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(project_root.absolute()).as_posix()
    except ValueError:
        return absolute.as_posix()


def journal_rows(root: Path, scene: str | None = None) -> list[Render]:
    """The journal's rows (oldest first) without creating a journal where there is none."""
    path = journal_path(root)
    if not path.exists():
        return []
    with Journal.open(path) as journal:
        return journal.all(scene)


def find_root(path: Path) -> Path:
    """The project a status or cancel path belongs to: the nearest folder upwards with a journal, or its project."""
    start = path.absolute() if path.is_dir() else path.absolute().parent
    for folder in (start, *start.parents):
        if journal_path(folder).exists():
            return folder
    return find_project(start / "_").root.absolute()
