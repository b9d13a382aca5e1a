"""The grammar: conflict-free under lark's strict mode, the committed parse tables up to date, and shipped in the
wheel."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_grammar_builds_strict_lalr() -> None:
    """strict=True turns shift/reduce conflicts and same-priority terminal collisions into errors."""
    from lark import Lark

    Lark((ROOT / "grammar/scene.lark").read_text(), parser="lalr", lexer="contextual", strict=True,
         propagate_positions=True)


def test_parse_tables_are_up_to_date() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_parser

    assert gen_parser.recorded_digest() == gen_parser.grammar_digest(), (
        "compiler/_scene_tables.py is stale: run make parser")


def test_wheel_ships_grammar_and_compiles_from_an_installed_copy(tmp_path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = dist.glob("scenec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "compiler/grammar/scene.lark" in names and "compiler/templates/prose.en.j2" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    code = ("import compiler, sys; assert compiler.__file__.startswith(sys.argv[1]), compiler.__file__; "
            "from pathlib import Path; from compiler.api import compile_file; "
            "r = compile_file(Path(sys.argv[2])); print(r.payload.input.prompt[:7])")
    done = subprocess.run([sys.executable, "-c", code, str(target), str(ROOT / "scenes/alley.scene")],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Video 1"
