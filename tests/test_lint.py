"""Linting as teams do it (issue 13): configuration, suppression comments, SARIF/JSON/statistics output,
--output-file, `scenec explain`.  Fixes are in test_fixes.py, the pre-commit hook in test_precommit.py."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.api import check_file
from compiler.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from compiler.diagnostics import CODES

ROOT = Path(__file__).resolve().parent.parent
OK_JPG = ROOT / "tests" / "cases" / "media" / "ok.jpg"
STYLE = ROOT / "tests" / "cases" / "negative" / "style.scene"

SCENE = """CAST
MAYA: image ok.jpg
JUNE: image ok.jpg

MAYA waves at Image 1.
"""


def project(tmp_path: Path, scene: str = SCENE, config: tuple[str, str] | None = None, name: str = "a.scene") -> Path:
    """A project folder with ok.jpg, the scene, and optionally (file name, text) as its configuration."""
    (tmp_path / "ok.jpg").write_bytes(OK_JPG.read_bytes())
    if config:
        (tmp_path / config[0]).write_text(config[1], encoding="utf-8")
    path = tmp_path / name
    path.write_text(scene, encoding="utf-8")
    return path


def codes(path: Path, **options) -> list[tuple[str, int | None]]:
    return [(d.code, d.span.line if d.span else None) for d in check_file(path, **options)]


# --- suppression comments ----------------------------------------------------------------------------

def test_without_directives_or_configuration_the_warnings_are_all_there(tmp_path) -> None:
    assert codes(project(tmp_path)) == [("unused-member", 3), ("literal-identifier", 5)]


def test_a_directive_above_a_line_silences_that_code_there_only(tmp_path) -> None:
    scene = SCENE.replace("JUNE:", "-- scenec: ignore[unused-member]\n-- another comment\nJUNE:")
    assert codes(project(tmp_path, scene)) == [("literal-identifier", 7)]


def test_a_file_directive_silences_the_code_everywhere_and_a_group_name_works(tmp_path) -> None:
    scene = "-- scenec: ignore-file[names, literal-identifier] reason: a draft\n" + SCENE
    assert codes(project(tmp_path, scene)) == []


def test_an_unused_directive_is_a_warning_at_the_name(tmp_path) -> None:
    scene = SCENE.replace("MAYA waves", "-- scenec: ignore[unused-member]\nMAYA waves")
    found = check_file(project(tmp_path, scene))
    unused = [d for d in found if d.code == "unused-suppression"]
    assert [(d.span.line, d.span.column) for d in unused] == [(5, 19)]
    assert "silenced nothing on line 6" in unused[0].message
    assert {d.code for d in found} == {"unused-member", "literal-identifier", "unused-suppression"}


def test_an_unknown_code_is_a_warning_with_the_nearest_code(tmp_path) -> None:
    scene = SCENE.replace("JUNE:", "-- scenec: ignore[unused-membr]\nJUNE:")
    found = [d for d in check_file(project(tmp_path, scene)) if d.code == "unknown-suppression-code"]
    assert len(found) == 1 and found[0].hint == "did you mean unused-member?" and found[0].span.line == 3


def test_an_error_cannot_be_suppressed_and_the_directive_says_so(tmp_path) -> None:
    scene = SCENE + "\n-- scenec: ignore[unknown-speaker]\nNOBODY\nHello.\n"
    found = codes(project(tmp_path, scene))
    assert ("unknown-speaker", 8) in found and ("unsuppressible-code", 7) in found
    assert main(["check", str(tmp_path / "a.scene")]) == EXIT_ERRORS


def test_a_directive_with_no_code_or_a_bad_form_is_malformed(tmp_path) -> None:
    scene = "-- scenec: ignore[]\n-- scenec: disable[unused-member]\n" + SCENE
    found = codes(project(tmp_path, scene))
    assert found.count(("malformed-suppression", 1)) == 1 and found.count(("malformed-suppression", 2)) == 1
    assert ("unused-member", 5) in found


def test_an_ordinary_comment_mentioning_scenec_is_not_a_directive(tmp_path) -> None:
    scene = "-- scenec is the compiler; scenec: ignore nothing here\n" + SCENE
    assert codes(project(tmp_path, scene)) == [("unused-member", 4), ("literal-identifier", 6)]


def test_a_directive_in_an_imported_cast_file_silences_its_own_diagnostics(tmp_path) -> None:
    (tmp_path / "extra.cast").write_text("CAST\n-- scenec: ignore[common-word-name]\nMAY: image ok.jpg\n",
                                         encoding="utf-8")
    scene = "CAST\nMAYA: image ok.jpg\nCAST FROM extra.cast\n\nMAYA waves at MAY.\n"
    path = project(tmp_path, scene)
    assert codes(path) == []
    (tmp_path / "extra.cast").write_text("CAST\nMAY: image ok.jpg\n", encoding="utf-8")
    assert [(d.code, Path(d.path).name) for d in check_file(path)] == [("common-word-name", "extra.cast")]


def test_compile_honours_suppressions_too(tmp_path, capsys) -> None:
    scene = "-- scenec: ignore-file[style, unused-member]\n" + SCENE
    assert main(["compile", str(project(tmp_path, scene))]) == EXIT_OK
    assert "warning" not in capsys.readouterr().err


# --- configuration ---------------------------------------------------------------------------------

def test_scenec_toml_ignore_select_and_groups(tmp_path) -> None:
    path = project(tmp_path, config=("scenec.toml", 'ignore = ["style"]\n'))
    assert codes(path) == [("unused-member", 3)]
    (tmp_path / "scenec.toml").write_text('select = ["style"]\n', encoding="utf-8")
    assert codes(path) == [("literal-identifier", 5)]


def test_a_misspelt_select_does_not_hide_its_own_warning(tmp_path) -> None:
    path = project(tmp_path, config=("scenec.toml", 'select = ["unused-membr"]\n'))
    assert codes(path) == [("unknown-suppression-code", 1)]


def test_a_configuration_nested_too_deeply_is_a_config_error_not_a_traceback(tmp_path) -> None:
    nested = "[" * 5000 + "]" * 5000
    configurations = (("scenec.toml", f"select = {nested}\n"),
                      ("pyproject.toml", f"[tool.scenec]\nselect = {nested}\n"))
    for name, text in configurations:
        for old in ("scenec.toml", "pyproject.toml"):
            (tmp_path / old).unlink(missing_ok=True)
        path = project(tmp_path, config=(name, text))
        assert ("config-error", None) in codes(path)


def test_pyproject_tool_scenec_is_the_configuration_and_its_folder_the_project(tmp_path) -> None:
    pyproject = '[project]\nname = "films"\n\n[tool.scenec]\nignore = ["unused-member"]\n'
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "ok.jpg").write_bytes(OK_JPG.read_bytes())
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    scene = tmp_path / "scenes" / "a.scene"
    scene.write_text(SCENE, encoding="utf-8")
    assert codes(scene) == [("literal-identifier", 5)]
    from compiler.project import find_project

    assert find_project(scene).root == tmp_path


def test_a_pyproject_without_the_table_is_not_a_configuration(tmp_path) -> None:
    path = project(tmp_path, config=("pyproject.toml", '[project]\nname = "scenec-films"\n'))
    from compiler.project import find_project

    assert find_project(path).config is None
    assert len(codes(path)) == 2


def test_in_one_folder_scenec_toml_wins_over_pyproject(tmp_path) -> None:
    path = project(tmp_path, config=("pyproject.toml", '[tool.scenec]\nignore = ["style"]\n'))
    (tmp_path / "scenec.toml").write_text('ignore = ["unused-member"]\n', encoding="utf-8")
    assert codes(path) == [("literal-identifier", 5)]


def test_the_nearest_configuration_wins(tmp_path) -> None:
    (tmp_path / "scenec.toml").write_text('ignore = ["unused-member"]\n', encoding="utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    path = project(inner, config=("pyproject.toml", '[tool.scenec]\nignore = ["style"]\n'))
    assert codes(path) == [("unused-member", 3)]


def test_unknown_keys_and_bad_values_are_diagnostics_at_their_line(tmp_path) -> None:
    config = ('# lint settings\nselect = "style"\nwarnings-as-errors = "yes"\nignroe = []\n'
              '[media]\nallow = []\nalow = 1\n')
    path = project(tmp_path, config=("scenec.toml", config))
    found = {(d.code, d.span.line if d.span else None) for d in check_file(path) if d.path.endswith("scenec.toml")}
    assert found == {("config-error", 2), ("config-error", 3), ("config-unknown-key", 4), ("config-unknown-key", 7)}
    messages = " ".join(d.message for d in check_file(path))
    assert "did you mean ignore?" in messages and "did you mean allow?" in messages


def test_a_top_level_key_written_under_a_table_is_explained(tmp_path) -> None:
    path = project(tmp_path, config=("scenec.toml", '[media]\nallow = []\nignore = ["style"]\n'))
    found = [d for d in check_file(path) if d.code == "config-unknown-key"]
    assert len(found) == 1 and found[0].span.line == 3 and "before the first [table]" in found[0].message


def test_ignore_naming_an_error_or_an_unknown_code_is_reported_and_changes_nothing(tmp_path) -> None:
    path = project(tmp_path, SCENE + "\nNOBODY\nHi.\n",
                   config=("scenec.toml", 'ignore = ["unknown-speaker", "unused-membr"]\n'))
    found = {(d.code, d.span.line if d.span else None) for d in check_file(path)}
    assert {("unsuppressible-code", 1), ("unknown-suppression-code", 1), ("unknown-speaker", 7),
            ("unused-member", 3)} <= found


def test_command_line_select_and_ignore_override_the_configuration(tmp_path, capsys) -> None:
    path = project(tmp_path, config=("scenec.toml", 'ignore = ["style"]\n'))
    assert main(["check", str(path), "--ignore", "names", "--format", "json"]) == EXIT_OK
    assert [d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]] == ["literal-identifier"]
    assert main(["check", str(path), "--select", "style,names", "--format", "json"]) == EXIT_OK
    assert len(json.loads(capsys.readouterr().out)["diagnostics"]) == 1  # the configuration's ignore still applies
    assert main(["check", str(path), "--select", "nonsense"]) == EXIT_USAGE
    assert "unknown code or group: nonsense" in capsys.readouterr().err


def test_warnings_as_errors_from_the_configuration_or_the_command_line(tmp_path, capsys) -> None:
    path = project(tmp_path)
    assert main(["check", str(path)]) == EXIT_OK
    assert main(["check", str(path), "--strict"]) == EXIT_ERRORS
    (tmp_path / "scenec.toml").write_text("warnings-as-errors = true\n", encoding="utf-8")
    assert main(["check", str(path)]) == EXIT_ERRORS
    out = capsys.readouterr().out
    assert "unused-member warning" in out  # the severity shown stays the registry's; only the exit code changes


def test_show_settings_prints_each_value_and_where_it_came_from(tmp_path, capsys) -> None:
    path = project(tmp_path, config=("scenec.toml", '# lint\nignore = ["style"]\n\n[media]\nallow = []\n'))
    assert main(["check", "--show-settings", "--strict", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f'ignore = ["style"]  # {tmp_path / "scenec.toml"}:2' in out
    assert "warnings-as-errors = true  # command line" in out
    assert 'select = ["all"]  # default' in out
    assert "unused-member" not in out  # nothing is checked


def test_a_trivial_scenec_toml_still_skips_tomllib(tmp_path) -> None:
    path = project(tmp_path, config=("scenec.toml", "[media]\nallow = []\n"))
    code = ("import sys; from compiler.cli import main; main(['check', sys.argv[1]]); "
            "print('tomllib' in sys.modules, 'typing' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "False False", done.stdout + done.stderr


# --- output formats ------------------------------------------------------------------------------------

def test_json_has_a_schema_version_and_keeps_its_keys(capsys) -> None:
    assert main(["check", str(STYLE), "--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1 and list(data) == ["schema_version", "files", "diagnostics"]


def test_statistics_count_per_code_most_frequent_first(tmp_path, capsys) -> None:
    scene = SCENE + "\nMAYA points at Image 1.\n"
    path = project(tmp_path, scene)
    assert main(["check", str(path), "--statistics"]) == EXIT_OK
    assert capsys.readouterr().out == ("2  literal-identifier (warning)\n1  unused-member (warning)\n"
                                       "1 file checked: 0 errors, 3 warnings\n")
    main(["check", str(path), "--statistics", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["statistics"] == [
        {"code": "literal-identifier", "severity": "warning", "count": 2},
        {"code": "unused-member", "severity": "warning", "count": 1}]


def test_output_file_is_written_and_the_exit_code_is_unchanged(tmp_path, capsys) -> None:
    report = tmp_path / "out" / "report.sarif"
    report.parent.mkdir()
    bad = ROOT / "tests" / "cases" / "negative" / "names.scene"
    assert main(["check", str(bad), "--format", "sarif", "--output-file", str(report)]) == EXIT_ERRORS
    assert capsys.readouterr().out == ""
    assert json.loads(report.read_text())["version"] == "2.1.0"
    assert [p.name for p in report.parent.iterdir()] == ["report.sarif"]
    assert main(["check", str(bad), "--output-file", str(tmp_path / "out")]) == EXIT_ERRORS  # a folder
    assert "cannot write" in capsys.readouterr().err


def test_default_human_output_is_unchanged_by_the_new_options(capsys) -> None:
    """Byte for byte what the report module printed before: each diagnostic, then the summary."""
    from compiler import report

    assert main(["check", str(STYLE)]) == EXIT_OK
    out = capsys.readouterr().out
    diagnostics = check_file(STYLE)
    cache: dict = {}
    expected = "".join(report.human(d, report.read_line(d.path, d.span.line, cache)) + "\n" for d in diagnostics)
    assert out == expected + report.summary(1, diagnostics) + "\n"


def _sarif(paths: list[Path], capsys) -> dict:
    main(["check", "--format", "sarif", *map(str, paths)])
    return json.loads(capsys.readouterr().out)


def test_sarif_validates_against_the_official_schema(capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    schema = json.loads((ROOT / "tests" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    negative = sorted((ROOT / "tests" / "cases" / "negative").glob("*.scene"))
    log = _sarif(negative, capsys)
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    assert len(log["runs"][0]["results"]) > 50
    broken = {"$schema": log["$schema"], "version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject a log without a driver name
        jsonschema.validate(broken, schema, cls=jsonschema.Draft4Validator)


def test_sarif_rules_come_from_the_registry_and_results_point_into_the_repository(capsys) -> None:
    log = _sarif([ROOT / "tests" / "cases" / "negative" / "names.scene"], capsys)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    unused = rules[list(CODES).index("unused-member")]
    assert unused["fullDescription"]["text"] == CODES["unused-member"].explanation
    assert unused["defaultConfiguration"]["level"] == "warning"
    result = next(r for r in run["results"] if r["ruleId"] == "unknown-speaker")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "tests/cases/negative/names.scene", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 22 and location["region"]["startColumn"] == 1
    assert rules[result["ruleIndex"]]["id"] == "unknown-speaker"
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_shows_hostile_text_as_text(tmp_path) -> None:
    """Names and messages come from files other people write: no control or bidi character reaches the terminal."""
    path = project(tmp_path, "CAST\nMAYA: image ok.jpg\n\nMAYA waves.\n\nMAYO\x1b[31m\u202e\nHi.\n", name="a\x1b.scene")
    main(["check", "--format", "sarif", "--output-file", str(tmp_path / "out.sarif"), str(path)])
    text = (tmp_path / "out.sarif").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\u202e" not in text
    assert any("MAYO" in r["message"]["text"] for r in json.loads(text)["runs"][0]["results"])


def test_sarif_columns_are_code_points_and_uris_are_percent_encoded(tmp_path) -> None:
    from compiler.sarif import sarif_log

    path = project(tmp_path, "CAST\n小李: image ok.jpg\n\n小李 waves at Image 1.\n", name="my scene.scene")
    log = sarif_log(check_file(path), root=tmp_path)
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "literal-identifier")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20scene.scene"
    assert location["region"]["startColumn"] == len("小李 waves at ") + 1


# --- explain ----------------------------------------------------------------------------------------

def _doc_sections() -> dict[str, str]:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    sections = {}
    for chunk in text.split("\n### `")[1:]:
        slug = chunk.split("`", 1)[0]
        sections[slug] = ("### `" + chunk).split("\n## ", 1)[0].rstrip("\n")
    return sections


def test_explain_prints_the_docs_section_of_each_code(capsys) -> None:
    sections = _doc_sections()
    assert set(sections) == set(CODES)
    for slug in ("unused-member", "prompt-too-long", "unused-suppression"):
        assert main(["explain", slug.upper().replace("-", "_")]) == EXIT_OK
        assert capsys.readouterr().out == sections[slug] + "\n"


def test_explain_a_group_and_an_unknown_code(capsys) -> None:
    assert main(["explain", "style"]) == EXIT_OK
    assert capsys.readouterr().out.count("### `") == sum(c.group == "style" for c in CODES.values())
    assert main(["explain", "unused-membr"]) == EXIT_USAGE
    assert "did you mean unused-member?" in capsys.readouterr().err


def test_explain_prints_a_code_named_twice_or_also_by_its_group_once(capsys) -> None:
    assert main(["explain", "unused-member", "UNUSED_MEMBER", "names"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("### `unused-member`") == 1
    assert out.count("### `") == sum(c.group == "names" for c in CODES.values())


def test_check_explain_codes_appends_the_sections_of_the_codes_reported(capsys) -> None:
    sections = _doc_sections()
    assert main(["check", str(STYLE), "--explain-codes"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.endswith(sections["caps-line-in-dialogue"] + "\n")
    assert sections["literal-identifier"] in out and "### `unused-member`" not in out


def test_docs_say_which_codes_cannot_be_suppressed() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code in CODES.values():
        assert f"| `{code.slug}` | {code.severity} | {'yes' if code.suppressible else 'no'} |" in text
        assert code.suppressible == (code.severity == "warning")
