"""Records (compiler/records.py) are real named tuples at run time, and `scenec check` never imports typing."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import ir, nodes
from compiler.diagnostics import Diagnostic
from compiler.records import Record
from compiler.source import Span

ROOT = Path(__file__).resolve().parent.parent
SPAN = Span(0, 4, 1, 1, 1, 5)


def test_a_record_is_a_named_tuple_with_its_fields_defaults_and_methods() -> None:
    diagnostic = Diagnostic("unexpected-token", "error", "no", SPAN)
    assert isinstance(diagnostic, tuple) and diagnostic._fields[:4] == ("code", "severity", "message", "span")
    assert (diagnostic.path, diagnostic.hint, diagnostic.related) == (None, None, ())
    assert diagnostic.to_dict()["span"] == SPAN.to_dict()
    assert diagnostic._replace(path="a.scene").path == "a.scene"
    assert diagnostic == ("unexpected-token", "error", "no", SPAN, None, None, ())
    assert repr(SPAN) == "Span(start=0, end=4, line=1, column=1, end_line=1, end_column=5)"
    assert ir.Scene.references.__doc__  # a property of the class body is kept


def test_a_record_is_immutable_and_has_no_instance_dict() -> None:
    with pytest.raises(AttributeError):
        SPAN.start = 1  # type: ignore[misc]  # the point of the test: assignment is refused
    assert not hasattr(SPAN, "__dict__")


def test_records_pickle_and_name_their_own_module() -> None:
    """Pickle finds a class by module and name: a record belongs to the module that declares it."""
    word = nodes.Word("MAYA", SPAN)
    assert type(word).__module__ == "compiler.nodes" and type(word).__qualname__ == "Word"
    assert pickle.loads(pickle.dumps(word)) == word
    assert pickle.loads(pickle.dumps(ir.Settings())) == ir.Settings()


def test_a_record_takes_record_as_its_only_base() -> None:
    with pytest.raises(TypeError, match="only base"):
        class Both(Record, dict[str, str]):  # type: ignore[misc]  # refused at run time, which is what is tested
            name: str


def test_a_field_without_a_default_cannot_follow_one_with_a_default() -> None:
    """namedtuple would give the defaults to the last fields, so X('z') would mean a='z', b=1: refused."""
    with pytest.raises(TypeError, match="without a default follows"):
        class Shuffled(Record):  # type: ignore[misc]  # refused at run time, which is what is tested
            a: int = 1
            b: str  # type: ignore[misc]


def test_check_does_not_import_typing() -> None:
    """Records and gc_paused are typed for checkers only: `scenec check`'s start-up stays without typing."""
    code = ("import sys; from compiler.cli import main; main(['check', sys.argv[1]]); "
            "print(sorted(m for m in ('typing', 'annotationlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "scenes" / "alley.scene")],
                          capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
