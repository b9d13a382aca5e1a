"""Tests of the render journal: transitions, decide(), durability, concurrency and secrets."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from compiler.render import journal as jmod
from compiler.render.journal import (
    SCHEMA_VERSION,
    TRANSITIONS,
    IllegalTransition,
    Journal,
    JournalError,
    Render,
    decide,
)

SECRET = "sk-0123456789abcdef"

# The brief's state diagram restated independently of the implementation, so a
# change to TRANSITIONS is a visible, deliberate change to this test too.
EXPECTED_TRANSITIONS: dict[str, set[str]] = {
    "PREPARED": {"SUBMITTED", "UNKNOWN_SUBMIT", "SUBMIT_REJECTED"},
    "UNKNOWN_SUBMIT": {"SUBMITTED", "UNKNOWN_SUBMIT", "EXPIRED"},
    "SUBMITTED": {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"},
    "PENDING": {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"},
    "RUNNING": {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"},
    "SUCCEEDED": {"DOWNLOADED", "EXPIRED"},
    "DOWNLOADED": {"DOWNLOADED"},
    "FAILED": set(),
    "CANCELED": set(),
    "EXPIRED": set(),
    "SUBMIT_REJECTED": set(),
}
ALL_STATES = sorted(EXPECTED_TRANSITIONS)
IN_FLIGHT = {"PREPARED", "SUBMITTED", "PENDING", "RUNNING", "UNKNOWN_SUBMIT"}


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".scenec" / "journal.sqlite3"


@pytest.fixture
def j(db: Path, clock: FakeClock):
    with Journal.open(db, secrets=[SECRET], clock=clock) as journal:
        yield journal


def new(j: Journal, scene: str = "scenes/a.scene", payload: str = "p1", media: str | None = None) -> int:
    return j.prepare(scene, payload, '{"model": "wan2.7-r2v"}', media)


# Apply one mark_* call that moves a row to `target`; the arguments are plausible
# values, what matters here is the state change.
def apply(j: Journal, rid: int, target: str, clock: FakeClock, out: Path | None = None) -> None:
    if target == "SUBMITTED":
        j.mark_submitted(rid, f"task-{rid}", f"req-{rid}")
    elif target == "UNKNOWN_SUBMIT":
        j.mark_unknown_submit(rid, "connection reset after send")
    elif target == "SUBMIT_REJECTED":
        j.mark_rejected(rid, "InvalidParameter", "bad ratio", "req-x")
    elif target in ("PENDING", "RUNNING"):
        j.mark_status(rid, target)
    elif target == "SUCCEEDED":
        j.mark_succeeded(
            rid,
            "https://example.invalid/v.mp4",
            clock.now + 86_400,
            {"duration": 10.0, "SR": "720"},
            {"submit_time": "2026-11-24 10:00:00"},
        )
    elif target == "DOWNLOADED":
        path = out or Path("/nonexistent/out.mp4")
        j.mark_downloaded(rid, str(path), 4, "ab" * 32)
    elif target in ("FAILED", "CANCELED", "EXPIRED"):
        j.mark_failed(rid, target, "SomeCode", "some message")
    else:  # pragma: no cover - PREPARED is only reached by prepare()
        raise AssertionError(target)


# A shortest path of legal calls from PREPARED to each state.
PATHS: dict[str, list[str]] = {
    "PREPARED": [],
    "SUBMITTED": ["SUBMITTED"],
    "UNKNOWN_SUBMIT": ["UNKNOWN_SUBMIT"],
    "SUBMIT_REJECTED": ["SUBMIT_REJECTED"],
    "PENDING": ["SUBMITTED", "PENDING"],
    "RUNNING": ["SUBMITTED", "RUNNING"],
    "SUCCEEDED": ["SUBMITTED", "SUCCEEDED"],
    "DOWNLOADED": ["SUBMITTED", "SUCCEEDED", "DOWNLOADED"],
    "FAILED": ["SUBMITTED", "FAILED"],
    "CANCELED": ["SUBMITTED", "CANCELED"],
    "EXPIRED": ["SUBMITTED", "EXPIRED"],
}


def row_in(j: Journal, state: str, clock: FakeClock, **kw: object) -> int:
    rid = new(j, **kw)  # type: ignore[arg-type]
    for step in PATHS[state]:
        apply(j, rid, step, clock)
    assert j.get(rid).state == state
    return rid


def render(state: str, **kw: object) -> Render:
    base = {
        "id": 1, "scene": "s", "payload_sha256": "p", "media_sha256": None, "payload_json": "{}", "state": state,
        "task_id": None, "request_id": None, "video_url": None, "url_expires_at": None, "usage_json": None,
        "timings_json": None, "output_path": None, "output_bytes": None, "output_sha256": None, "code": None,
        "message": None, "created_at": 0.0, "submitted_at": None, "finished_at": None, "downloaded_at": None,
        "updated_at": 0.0,
    }
    base.update(kw)
    return Render(**base)  # type: ignore[arg-type]


# --- the table ---------------------------------------------------------------


def test_transition_table_matches_the_specification() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED_TRANSITIONS
    assert all(isinstance(v, frozenset) for v in TRANSITIONS.values())


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s in ALL_STATES for t in ALL_STATES if t != "PREPARED"],
)
def test_every_transition_is_allowed_or_refused_by_the_table(
    j: Journal, clock: FakeClock, source: str, target: str
) -> None:
    rid = row_in(j, source, clock)
    before = j.get(rid)
    clock.now += 5
    if target in EXPECTED_TRANSITIONS[source]:
        apply(j, rid, target, clock)
        after = j.get(rid)
        assert after.state == target
        assert after.updated_at == clock.now
    else:
        with pytest.raises(IllegalTransition) as info:
            apply(j, rid, target, clock)
        assert (info.value.current, info.value.target) == (source, target)
        assert j.get(rid) == before


def test_unknown_row_raises_key_error(j: Journal) -> None:
    with pytest.raises(KeyError):
        j.get(42)
    with pytest.raises(KeyError):
        j.mark_submitted(42, "t", None)


def test_writers_refuse_states_they_do_not_write(j: Journal) -> None:
    rid = row_in(j, "SUBMITTED", FakeClock())
    with pytest.raises(ValueError):
        j.mark_status(rid, "SUCCEEDED")
    with pytest.raises(ValueError):
        j.mark_failed(rid, "DOWNLOADED", None, None)
    assert j.get(rid).state == "SUBMITTED"


# --- what each writer records --------------------------------------------------


def test_prepare_records_the_payload_and_is_committed_before_returning(j: Journal, db: Path, clock: FakeClock) -> None:
    rid = j.prepare("scenes/a.scene", "p" * 64, '{"k": 1}', "m" * 64)
    # A separate connection (another process, or the same one after a crash) sees it.
    other = sqlite3.connect(db)
    try:
        state, payload = other.execute("SELECT state, payload_json FROM renders WHERE id = ?", (rid,)).fetchone()
    finally:
        other.close()
    assert (state, payload) == ("PREPARED", '{"k": 1}')
    r = j.get(rid)
    assert (r.scene, r.payload_sha256, r.media_sha256) == ("scenes/a.scene", "p" * 64, "m" * 64)
    assert r.created_at == r.updated_at == clock.now
    assert r.task_id is None and r.submitted_at is None


def test_the_happy_path_records_every_field(j: Journal, clock: FakeClock, tmp_path: Path) -> None:
    rid = new(j)
    clock.now += 1
    j.mark_submitted(rid, "task-1", "req-1")
    r = j.get(rid)
    assert (r.state, r.task_id, r.request_id, r.submitted_at) == ("SUBMITTED", "task-1", "req-1", clock.now)
    j.mark_status(rid, "PENDING")
    j.mark_status(rid, "PENDING")  # a repeated poll
    j.mark_status(rid, "RUNNING")
    clock.now += 60
    j.mark_succeeded(rid, "https://x.invalid/v.mp4", clock.now + 86_400, {"duration": 15.0, "SR": "720"},
                     {"end_time": "t"})
    r = j.get(rid)
    assert r.state == "SUCCEEDED" and r.video_url == "https://x.invalid/v.mp4"
    assert r.url_expires_at == clock.now + 86_400 and r.finished_at == clock.now
    assert r.usage == {"duration": 15.0, "SR": "720"} and r.timings == {"end_time": "t"}
    out = tmp_path / "out.mp4"
    out.write_bytes(b"1234")
    clock.now += 3
    j.mark_downloaded(rid, str(out), 4, "c" * 64)
    r = j.get(rid)
    assert (r.state, r.output_path, r.output_bytes, r.output_sha256, r.downloaded_at) == (
        "DOWNLOADED", str(out), 4, "c" * 64, clock.now,
    )


def test_failures_record_code_and_message(j: Journal, clock: FakeClock) -> None:
    rejected = new(j)
    j.mark_rejected(rejected, "DataInspectionFailed", "moderation", "req-9")
    r = j.get(rejected)
    assert (r.state, r.code, r.message, r.request_id, r.finished_at) == (
        "SUBMIT_REJECTED", "DataInspectionFailed", "moderation", "req-9", clock.now,
    )
    unknown = new(j)
    j.mark_unknown_submit(unknown, "read timeout")
    assert (j.get(unknown).state, j.get(unknown).message) == ("UNKNOWN_SUBMIT", "read timeout")
    failed = row_in(j, "RUNNING", clock)
    j.mark_failed(failed, "FAILED", "InternalError", "boom")
    assert (j.get(failed).code, j.get(failed).message) == ("InternalError", "boom")


def test_usage_may_be_absent(j: Journal, clock: FakeClock) -> None:
    rid = row_in(j, "SUBMITTED", clock)
    j.mark_succeeded(rid, "https://x.invalid/v.mp4", clock.now + 10, None, {})
    assert j.get(rid).usage is None and j.get(rid).timings == {}


# --- readers -----------------------------------------------------------------


def test_latest_all_and_in_flight(j: Journal, clock: FakeClock) -> None:
    assert j.latest("a") is None
    a1 = row_in(j, "FAILED", clock, scene="a")
    a2 = row_in(j, "RUNNING", clock, scene="a")
    b1 = row_in(j, "SUCCEEDED", clock, scene="b")
    row_in(j, "DOWNLOADED", clock, scene="b")
    row_in(j, "PREPARED", clock, scene="c")
    row_in(j, "UNKNOWN_SUBMIT", clock, scene="c")
    assert j.latest("a").id == a2  # type: ignore[union-attr]
    assert [r.id for r in j.all("a")] == [a1, a2]
    assert len(j.all()) == 6
    # Tasks that still need someone to come back for them: poll or download.
    assert [r.id for r in j.in_flight()] == [a2, b1]


def test_find_reusable(j: Journal, clock: FakeClock, tmp_path: Path) -> None:
    assert j.find_reusable("p", None) is None
    row_in(j, "FAILED", clock, payload="p")
    assert j.find_reusable("p", None) is None  # terminal failures are not reused
    done = row_in(j, "SUCCEEDED", clock, payload="p")
    out = tmp_path / "o.mp4"
    out.write_bytes(b"abcd")
    j.mark_downloaded(done, str(out), 4, "d" * 64)
    assert j.find_reusable("p", None).id == done  # type: ignore[union-attr]
    assert j.find_reusable("p", "media") is None  # other media contents: another render
    assert j.find_reusable("other", None) is None
    out.write_bytes(b"abc")  # truncated output: not reusable
    assert j.find_reusable("p", None) is None
    out.unlink()
    assert j.find_reusable("p", None) is None
    flying = row_in(j, "UNKNOWN_SUBMIT", clock, payload="p")
    assert j.find_reusable("p", None).id == flying  # type: ignore[union-attr]
    j.mark_failed(flying, "EXPIRED", "NotFound", "not in task list")
    succeeded = row_in(j, "SUCCEEDED", clock, payload="p")
    assert j.find_reusable("p", None).id == succeeded  # type: ignore[union-attr]
    clock.now += 86_401  # its URL lapsed: nothing left to reuse
    assert j.find_reusable("p", None) is None


def test_relative_output_paths_resolve_against_the_project(j: Journal, clock: FakeClock, tmp_path: Path) -> None:
    assert j.project_root == tmp_path.resolve()
    rid = row_in(j, "SUCCEEDED", clock, payload="rel")
    (tmp_path / "renders").mkdir()
    (tmp_path / "renders" / "a.mp4").write_bytes(b"xy")
    j.mark_downloaded(rid, "renders/a.mp4", 2, "e" * 64)
    assert j.find_reusable("rel", None).id == rid  # type: ignore[union-attr]


# --- decide --------------------------------------------------------------------

NOW = 1_000_000.0
VALID = {"video_url": "https://x.invalid/v.mp4", "url_expires_at": NOW + 100}
LAPSED = {"video_url": "https://x.invalid/v.mp4", "url_expires_at": NOW - 1}


@pytest.mark.parametrize(
    ("previous", "force", "output_exists", "expected"),
    [
        (None, False, False, "submit"),
        (None, True, False, "submit"),
        (render("DOWNLOADED", **VALID), False, True, "skip"),
        (render("DOWNLOADED", **VALID), True, True, "submit"),
        (render("DOWNLOADED", **VALID), False, False, "resume_download"),
        (render("DOWNLOADED", **LAPSED), False, False, "submit"),
        (render("DOWNLOADED", **VALID), True, False, "submit"),
        (render("SUBMITTED"), False, False, "resume_poll"),
        (render("SUBMITTED"), True, False, "resume_poll"),
        (render("PENDING"), True, False, "resume_poll"),
        (render("RUNNING"), False, False, "resume_poll"),
        (render("RUNNING"), True, False, "resume_poll"),
        (render("SUCCEEDED", **VALID), False, False, "resume_download"),
        (render("SUCCEEDED", **VALID), True, False, "resume_download"),
        (render("SUCCEEDED", **LAPSED), False, False, "submit"),
        (render("SUCCEEDED", **LAPSED), True, False, "submit"),
        (render("PREPARED"), False, False, "reconcile"),
        (render("PREPARED"), True, False, "submit"),
        (render("UNKNOWN_SUBMIT"), False, False, "reconcile"),
        (render("UNKNOWN_SUBMIT"), True, False, "submit"),
        (render("FAILED"), False, False, "submit"),
        (render("CANCELED"), False, False, "submit"),
        (render("EXPIRED"), False, False, "submit"),
        (render("SUBMIT_REJECTED"), False, False, "submit"),
    ],
)
def test_decide(previous: Render | None, force: bool, output_exists: bool, expected: str) -> None:
    assert decide(previous, force=force, output_exists=output_exists, now=NOW) == expected


@pytest.mark.parametrize("state", ALL_STATES)
def test_decide_never_abandons_a_paid_task_in_flight(state: str) -> None:
    result = decide(render(state, **VALID), force=True, output_exists=False, now=NOW)
    if state in {"SUBMITTED", "PENDING", "RUNNING"}:
        assert result == "resume_poll"


def test_decide_defaults_to_the_wall_clock() -> None:
    fresh = render("SUCCEEDED", video_url="u", url_expires_at=time.time() + 3600)
    assert decide(fresh, force=False, output_exists=False) == "resume_download"


# --- durability and schema -----------------------------------------------------


def test_persistence_across_close_and_reopen(db: Path, clock: FakeClock, tmp_path: Path) -> None:
    with Journal.open(db, clock=clock) as j1:
        rid = row_in(j1, "SUCCEEDED", clock)
        j1.upload_remember("h", "oss://dir/a.png", clock.now + 100)
        before = j1.get(rid)
    with Journal.open(db, clock=clock) as j2:
        assert j2.get(rid) == before
        assert j2.upload_lookup("h") == "oss://dir/a.png"
        j2.mark_failed(rid, "EXPIRED", None, "url lapsed")
    with Journal.open(db, clock=clock) as j3:
        assert j3.get(rid).state == "EXPIRED"


def test_pragmas_and_schema_version(j: Journal, db: Path) -> None:
    conn = j._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


def test_migrate_is_idempotent_and_refuses_a_newer_journal(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert jmod.migrate(conn) == SCHEMA_VERSION
        assert jmod.migrate(conn) == SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    finally:
        conn.close()
    with pytest.raises(JournalError, match="newer"):
        Journal.open(db)


def test_a_schema_1_journal_keeps_its_rows_and_identities_and_learns_endpoints(db: Path, clock: FakeClock) -> None:
    # A journal written before endpoints were kept: built by schema 1's own statements, one row in it.
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in jmod._SCHEMA_V1:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO renders (scene, payload_sha256, media_sha256, payload_json, state, task_id,"
                 " created_at, updated_at) VALUES ('a.scene', 'p-old', 'm-old', '{\"model\": \"wan2.7-r2v\"}',"
                 " 'UNKNOWN_SUBMIT', NULL, 1.0, 1.0)")
    conn.close()
    with Journal.open(db, clock=clock) as journal:
        [old] = journal.all()
        assert (old.scene, old.payload_sha256, old.media_sha256, old.state) == ("a.scene", "p-old", "m-old",
                                                                                  "UNKNOWN_SUBMIT")
        assert old.endpoint is None and old.model == "wan2.7-r2v"
        assert journal.find_reusable("p-old", "m-old") == old  # the same identity still finds it
        rid = journal.prepare("a.scene", "p-new", '{"model": "wan3.0-video"}', None, "http://127.0.0.1:1/api/v1")
        assert journal.get(rid).endpoint == "http://127.0.0.1:1/api/v1" and journal.latest("a.scene").id == rid
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 2


@pytest.mark.parametrize(("body", "model"), [('{"model": "wan3.0-video"}', "wan3.0-video"), ("{}", None),
                                             ('{"model": ""}', None), ("[1]", None), ("not json", None),
                                             ('{"model": 7}', None)])
def test_a_rows_model_is_read_from_its_body(j: Journal, body: str, model: str | None) -> None:
    assert j.get(j.prepare("a.scene", "p", body, None)).model == model


def test_the_database_refuses_an_unknown_state(j: Journal) -> None:
    rid = new(j)
    with pytest.raises(sqlite3.IntegrityError):
        j._conn.execute("UPDATE renders SET state = 'BOGUS' WHERE id = ?", (rid,))


# --- several processes ---------------------------------------------------------


def test_two_journals_on_one_file(db: Path, clock: FakeClock) -> None:
    with Journal.open(db, clock=clock) as a, Journal.open(db, clock=clock) as b:
        rid = new(a)
        assert b.get(rid).state == "PREPARED"  # committed, visible at once
        b.mark_submitted(rid, "task-1", "req-1")
        assert a.get(rid).task_id == "task-1"
        # Both saw PREPARED, only one may record the submission.
        with pytest.raises(IllegalTransition):
            a.mark_submitted(rid, "task-2", "req-2")
        assert a.get(rid).task_id == "task-1"


def test_a_writer_waits_for_another_writers_lock(db: Path, clock: FakeClock) -> None:
    with Journal.open(db, clock=clock) as j:
        locked, released = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            # Another process in the middle of a write.
            holder = sqlite3.connect(db, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                locked.set()
                time.sleep(0.3)
                released.set()
                holder.execute("COMMIT")
            finally:
                holder.close()

        thread = threading.Thread(target=hold_the_lock)
        thread.start()
        try:
            assert locked.wait(10)
            rid = new(j)  # blocks on the busy timeout instead of failing
            assert released.is_set()
            assert j.get(rid).state == "PREPARED"
        finally:
            thread.join()


def test_concurrent_writers_lose_nothing(db: Path) -> None:
    Journal.open(db).close()  # create the schema once, as the first render would
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with Journal.open(db) as j:
                for i in range(20):
                    rid = j.prepare(f"scene-{n}", f"p-{n}-{i}", "{}", None)
                    j.mark_submitted(rid, f"t-{n}-{i}", None)
                    j.mark_status(rid, "RUNNING")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Journal.open(db) as j:
        rows = j.all()
        assert len(rows) == 80 and len({r.id for r in rows}) == 80
        assert {r.state for r in rows} == {"RUNNING"}


# --- secrets -------------------------------------------------------------------


def test_secrets_are_never_written(j: Journal, db: Path, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="secret"):
        j.prepare("s", "p", f'{{"auth": "Bearer {SECRET}"}}', None)
    assert j.all() == []
    rid = row_in(j, "SUBMITTED", clock)
    before = j.get(rid)
    with pytest.raises(ValueError):
        j.mark_failed(rid, "FAILED", "InvalidApiKey", f"key {SECRET} is invalid")
    with pytest.raises(ValueError):
        j.mark_succeeded(rid, "https://x.invalid/v.mp4", clock.now + 1, {"echo": SECRET}, {})
    with pytest.raises(ValueError):
        j.mark_succeeded(rid, f"https://x.invalid/v.mp4?k={SECRET}", clock.now + 1, None, {})
    with pytest.raises(ValueError):
        j.upload_remember("h", f"oss://{SECRET}/a.png", clock.now + 1)
    assert j.get(rid) == before
    assert j.upload_lookup("h") is None
    j._conn.execute("PRAGMA wal_checkpoint(FULL)")
    stored = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.is_file())
    assert SECRET.encode() not in stored


def test_empty_secrets_are_ignored(db: Path) -> None:
    with Journal.open(db, secrets=["", "  "]) as j:
        assert j.prepare("s", "p", "{}", None) == 1


def test_the_error_does_not_echo_the_secret(j: Journal) -> None:
    with pytest.raises(ValueError) as info:
        j.prepare("s", "p", SECRET, None)
    assert SECRET not in str(info.value)


# --- uploads cache -------------------------------------------------------------


def test_upload_cache_expiry(j: Journal, clock: FakeClock) -> None:
    assert j.upload_lookup("h") is None
    j.upload_remember("h", "oss://dir/a.png", clock.now + 100)
    assert j.upload_lookup("h") == "oss://dir/a.png"
    assert j.upload_lookup("h", now=clock.now + 99.9) == "oss://dir/a.png"
    assert j.upload_lookup("h", now=clock.now + 100) is None  # expired at the instant
    clock.now += 101
    assert j.upload_lookup("h") is None
    j.upload_remember("h", "oss://dir/b.png", clock.now + 100)  # a fresh upload replaces it
    assert j.upload_lookup("h") == "oss://dir/b.png"
    assert j.upload_lookup("other") is None


# --- a state machine against a pure model --------------------------------------

ACTIONS = [t for t in ALL_STATES if t != "PREPARED"]
PAYLOADS = ["pa", "pb"]
MEDIA = [None, "m1"]


class JournalMachine(RuleBasedStateMachine):
    """Random mark_* sequences: legal ones must land, illegal ones must change nothing."""

    directories: itertools.count[int]
    base: Path

    rids = Bundle("rids")

    def __init__(self) -> None:
        super().__init__()
        self.dir = self.base / f"run-{next(self.directories)}"
        self.dir.mkdir()
        self.db = self.dir / ".scenec" / "journal.sqlite3"
        self.clock = FakeClock()
        self.j = Journal.open(self.db, secrets=[SECRET], clock=self.clock)
        # rid -> the model of its row.
        self.model: dict[int, dict[str, object]] = {}

    def teardown(self) -> None:
        self.j.close()

    # A few rows taken deep teach more than many shallow ones.
    @precondition(lambda self: len(self.model) < 4)
    @rule(target=rids, payload=st.sampled_from(PAYLOADS), media=st.sampled_from(MEDIA))
    def prepare(self, payload: str, media: str | None) -> int:
        rid = self.j.prepare("scenes/x.scene", payload, "{}", media)
        assert rid not in self.model
        self.model[rid] = {"state": "PREPARED", "payload": payload, "media": media,
                           "expires": None, "out": None, "bytes": None}
        return rid

    # Time passing and reopening are arguments of this rule rather than rules of
    # their own: Hypothesis favours rules with fewer arguments, and as separate
    # rules they crowded out the transitions this machine is about.
    @rule(rid=rids, data=st.data(), size=st.integers(0, 3),
          lifetime=st.sampled_from([-1.0, 5.0, 1000.0]),
          wait=st.sampled_from([0.0, 1.0, 10.0, 2000.0]), reopen=st.integers(0, 7))
    def mark(self, rid: int, data: st.DataObject, size: int, lifetime: float,
             wait: float, reopen: int) -> None:
        row = self.model[rid]
        # Half legal moves, so rows get deep (DOWNLOADED takes three), half
        # illegal ones, so refusals are tried from every depth too.
        allowed = EXPECTED_TRANSITIONS[str(row["state"])]
        pick_legal = bool(allowed) and data.draw(st.booleans(), label="pick_legal")
        choices = sorted(allowed) if pick_legal else sorted(set(ACTIONS) - allowed)
        target_state = data.draw(st.sampled_from(choices), label="target")
        legal = target_state in allowed
        self.clock.now += wait
        if reopen == 0:  # persistence: the next call goes through a fresh connection
            self.j.close()
            self.j = Journal.open(self.db, secrets=[SECRET], clock=self.clock)
        before = self.j.get(rid)
        out = self.dir / f"out-{rid}.mp4"
        try:
            self._call(rid, target_state, out, size, lifetime)
        except IllegalTransition:
            assert not legal, f"{row['state']} -> {target_state} should be legal"
            assert self.j.get(rid) == before
            return
        assert legal, f"{row['state']} -> {target_state} should be illegal"
        row["state"] = target_state
        if target_state == "SUCCEEDED":
            row["expires"] = self.clock.now + lifetime
        if target_state == "DOWNLOADED":
            row["out"], row["bytes"] = out, size

    def _call(self, rid: int, target_state: str, out: Path, size: int, lifetime: float) -> None:
        if target_state == "SUCCEEDED":
            self.j.mark_succeeded(rid, "https://x.invalid/v.mp4", self.clock.now + lifetime, None, {})
        elif target_state == "DOWNLOADED":
            out.write_bytes(b"x" * size)  # a download writes the file before recording it
            self.j.mark_downloaded(rid, str(out), size, "f" * 64)
        else:
            apply(self.j, rid, target_state, self.clock)

    def _outputs(self) -> list[Path]:
        outs = (row["out"] for row in self.model.values() if row["state"] == "DOWNLOADED")
        return sorted(p for p in outs if isinstance(p, Path) and p.exists())

    @precondition(lambda self: self._outputs())
    @rule(data=st.data(), truncate=st.booleans())
    def damage_output(self, data: st.DataObject, truncate: bool) -> None:
        out = data.draw(st.sampled_from(self._outputs()), label="output")
        if truncate:  # any size other than the recorded one
            out.write_bytes(b"x" * (out.stat().st_size + 1))
        else:
            out.unlink()

    def _model_reusable(self, payload: str, media: str | None) -> int | None:
        for rid in sorted(self.model, reverse=True):
            row = self.model[rid]
            if row["payload"] != payload or row["media"] != media:
                continue
            state = row["state"]
            if state in IN_FLIGHT:
                return rid
            if state == "SUCCEEDED" and float(row["expires"]) > self.clock.now:  # type: ignore[arg-type]
                return rid
            if state == "DOWNLOADED":
                out = row["out"]
                assert isinstance(out, Path)
                if out.exists() and out.stat().st_size == row["bytes"]:
                    return rid
        return None

    @invariant()
    def states_match_the_model(self) -> None:
        stored = {r.id: r.state for r in self.j.all()}
        assert stored == {rid: row["state"] for rid, row in self.model.items()}

    @invariant()
    def find_reusable_matches_the_model(self) -> None:
        for payload in PAYLOADS:
            for media in MEDIA:
                found = self.j.find_reusable(payload, media)
                assert (found.id if found else None) == self._model_reusable(payload, media)


@pytest.fixture
def memory_backed_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder in RAM (/dev/shm) where there is one, else tmp_path.

    The machine makes thousands of journal writes under synchronous=FULL; on a disk their fsyncs cost a
    fifth or more of its time.  It tests the transitions and find_reusable against a model, which no file
    system changes; durability has its own tests (prepare committed before returning, close and reopen
    above, kill -9 in test_render_e2e).
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(prefix="scenec-journal-", dir=shm) as folder:
        yield Path(folder)


def test_journal_state_machine(memory_backed_dir: Path) -> None:
    machine = type(
        "Machine", (JournalMachine,), {"base": memory_backed_dir, "directories": itertools.count()}
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            # ~7 s; fewer left whole (state, move) pairs untried. A longer
            # profile (HYPOTHESIS_PROFILE=fuzz) runs longer here too.
            max_examples=max(200, settings().max_examples),
            stateful_step_count=50,
            deadline=None,  # synchronous=FULL fsyncs every write; timing varies by disk
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_render_is_frozen() -> None:
    r = render("PREPARED")
    with pytest.raises(FrozenInstanceError):
        r.state = "SUBMITTED"  # type: ignore[misc]
    assert replace(r, state="SUBMITTED").state == "SUBMITTED"


# --- an unusable journal is a clear error, never a fresh start -------------------------------------


def test_a_corrupt_journal_is_a_clear_error(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not an SQLite database, it was overwritten by something" * 20)
    with pytest.raises(JournalError, match=r"damaged.*Move it aside"):
        Journal.open(db)


def test_a_truncated_journal_is_a_clear_error(db: Path, clock: FakeClock) -> None:
    with Journal.open(db, clock=clock) as j:
        for _ in range(40):
            row_in(j, "DOWNLOADED", clock)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    with pytest.raises(JournalError, match="damaged"), Journal.open(db) as j:
        j.all()


def test_an_emptied_journal_is_not_silently_started_afresh(db: Path) -> None:
    Journal.open(db).close()
    db.write_bytes(b"")
    with pytest.raises(JournalError, match="empty"):
        Journal.open(db)


def test_a_folder_in_the_journals_place_is_a_clear_error(db: Path) -> None:
    db.mkdir(parents=True)
    with pytest.raises(JournalError, match="folder"):
        Journal.open(db)


def test_a_journal_locked_too_long_is_a_clear_error(db: Path, monkeypatch) -> None:
    Journal.open(db).close()
    monkeypatch.setattr(jmod, "BUSY_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(JournalError, match="locked by another process"), Journal.open(db) as j:
            new(j)
    finally:
        holder.close()


def test_a_new_journal_appears_whole(db: Path) -> None:
    Journal.open(db).close()
    assert db.stat().st_size > 0
    assert sorted(p.name for p in db.parent.iterdir()) == [db.name]  # no draft, no -wal, no -journal left


def test_a_killed_writer_loses_nothing_even_when_its_side_files_are_deleted(db: Path) -> None:
    # The process dies without closing (kill -9); then a clean-up deletes every file but the journal.
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from compiler.render.journal import Journal\n"
        "j = Journal.open(Path(sys.argv[1]))\n"
        "rid = j.prepare('a.scene', 'p', '{}', None)\n"
        "j.mark_submitted(rid, 'task-paid', 'req')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, cwd=Path(__file__).resolve().parent.parent)
    for side in db.parent.iterdir():
        if side != db:
            side.unlink()
    with Journal.open(db) as j:
        assert [(r.state, r.task_id) for r in j.all()] == [("SUBMITTED", "task-paid")]


def test_every_commit_is_in_the_main_file_while_the_journal_is_open(db: Path) -> None:
    with Journal.open(db) as j:
        rid = new(j)
        j.mark_submitted(rid, "task-1", None)
        snapshot = db.parent / "copy.sqlite3"
        snapshot.write_bytes(db.read_bytes())  # the main file alone, as a backup would copy it
    with Journal.open(snapshot) as copy:
        assert [(r.state, r.task_id) for r in copy.all()] == [("SUBMITTED", "task-1")]


# --- writers for reconcile, fresh URLs, sidecars and the upload cache ------------------------------


def test_adopt_and_a_lookup_miss(j: Journal, clock: FakeClock) -> None:
    rid = row_in(j, "UNKNOWN_SUBMIT", clock)
    j.mark_unknown_submit(rid, "looked up: no task yet", "NotFoundYet")
    assert (j.get(rid).state, j.get(rid).code) == ("UNKNOWN_SUBMIT", "NotFoundYet")
    j.adopt(rid, "task-x", "found in the task list")
    row = j.get(rid)
    assert (row.state, row.task_id, row.code) == ("SUBMITTED", "task-x", "Adopted")
    assert j.known_task_ids() == {"task-x"}
    with pytest.raises(IllegalTransition):
        j.adopt(rid, "task-y", "again")


def test_a_fresh_url_keeps_the_state_and_only_applies_to_finished_rows(j: Journal, clock: FakeClock) -> None:
    done = row_in(j, "SUCCEEDED", clock)
    j.mark_fresh_url(done, "https://x.invalid/new.mp4", clock.now + 500)
    row = j.get(done)
    assert (row.state, row.video_url, row.url_expires_at) == ("SUCCEEDED", "https://x.invalid/new.mp4", clock.now + 500)
    running = row_in(j, "RUNNING", clock)
    with pytest.raises(IllegalTransition):
        j.mark_fresh_url(running, "https://x.invalid/new.mp4", clock.now + 500)


def test_restore_downloaded_rebuilds_a_reusable_row(j: Journal, tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"1234")
    rid = j.restore_downloaded("a.scene", "p", "m", "{}", "task-1", "req-1", (str(video), 4, "ab" * 32))
    row = j.get(rid)
    assert (row.state, row.task_id, row.code) == ("DOWNLOADED", "task-1", "Restored")
    assert j.find_reusable("p", "m") == row


def test_upload_forget_drops_only_the_named_urls(j: Journal, clock: FakeClock) -> None:
    j.upload_remember("a", "oss://dir/a.mp4", clock.now + 100)
    j.upload_remember("b", "oss://dir/b.mp4", clock.now + 100)
    assert j.upload_forget(["oss://dir/a.mp4", "oss://dir/zzz"]) == 1
    assert (j.upload_lookup("a"), j.upload_lookup("b")) == (None, "oss://dir/b.mp4")


def test_a_task_id_belongs_to_one_row(j: Journal, clock: FakeClock) -> None:
    from compiler.render.journal import TaskHeld

    first, second = row_in(j, "UNKNOWN_SUBMIT", clock), row_in(j, "UNKNOWN_SUBMIT", clock)
    j.adopt(first, "task-x", "found")
    with pytest.raises(TaskHeld):
        j.adopt(second, "task-x", "found")
    assert j.get(second).state == "UNKNOWN_SUBMIT"


def test_a_journal_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".scenec").write_text("a file where the folder should be")
    with pytest.raises(JournalError, match="cannot be created"):
        Journal.open(tmp_path / ".scenec" / "journal.sqlite3")
