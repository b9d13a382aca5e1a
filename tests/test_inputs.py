"""Hostile inputs on disk: FIFOs, devices, folders, symlinks out of the project, names too long, huge files,
CAST FROM graphs (diamonds, fan-out, loops, named imports), a broken scenec.toml, and parse recovery's limit.

Each case must end in a diagnostic (never a hang or a traceback), and a file imported many times is read
once.  Commands that could block run in a subprocess with a generous timeout: a hang fails the test
instead of freezing the suite (the timeout is a guard, not a timed assertion).
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from compiler import lalr
from compiler.api import check_file, compile_file, parse_file, parse_text, resolve
from compiler.cli import EXIT_ERRORS, EXIT_USAGE, main
from compiler.diagnostics import MAX_COMPARED, Suggestions, did_you_mean, edit_distance
from compiler.parse import MAX_FILE_BYTES, MAX_SYNTAX_ERRORS

ROOT = Path(__file__).resolve().parent.parent
SCENE = "CAST\nMAYA: image https://example.com/a.jpg\n\nMAYA waits.\n"
LONG_NAME = "a" * 300  # over the 255-byte limit of a path component on Linux file systems


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "scenec.toml").write_text("")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def scenec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def codes(diagnostics) -> Counter:
    return Counter(d.code for d in diagnostics)


# --- files that are not regular files ------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_scene_in_a_checked_folder_is_a_diagnostic_not_a_hang(tmp_path) -> None:
    folder = project(tmp_path, {"ok.scene": SCENE})
    os.mkfifo(folder / "x.scene")
    for command in (["check", "."], ["compile", "x.scene"], ["cost", "x.scene"]):
        done = scenec(*command, cwd=folder)
        assert "Traceback" not in done.stderr
        assert "x.scene" in done.stdout + done.stderr and "FIFO" in done.stdout + done.stderr, command


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_cast_from_a_fifo_is_refused(tmp_path) -> None:
    folder = project(tmp_path, {"s.scene": "CAST FROM pipe.cast\n" + SCENE})
    os.mkfifo(folder / "pipe.cast")
    done = scenec("check", "s.scene", "--format", "json", cwd=folder)
    found = json.loads(done.stdout)["diagnostics"]
    assert [(d["code"], d["span"]["line"]) for d in found] == [("cast-import-failed", 1)]
    assert "FIFO" in found[0]["message"]


def test_a_device_or_folder_as_cast_file_is_refused(tmp_path) -> None:
    folder = project(tmp_path, {"s.scene": "CAST FROM null.cast\nCAST FROM dir.cast\n" + SCENE})
    (folder / "null.cast").symlink_to(os.devnull)  # inside the project by name, a device once resolved
    (folder / "dir.cast").mkdir()
    found = check_file(folder / "s.scene")
    failed = [d for d in found if d.code in ("cast-import-failed", "path-outside-project")]
    assert len(failed) == 2 and all(d.path == str(folder / "s.scene") for d in failed)
    assert "folder" in failed[1].message


def test_a_device_named_on_the_command_line_is_refused(tmp_path) -> None:
    found = check_file(Path(os.devnull))
    assert [d.code for d in found] == ["unreadable-file"] and "device" in found[0].message


def test_a_symlink_loop_is_a_diagnostic(tmp_path) -> None:
    (tmp_path / "a.scene").symlink_to(tmp_path / "b.scene")
    (tmp_path / "b.scene").symlink_to(tmp_path / "a.scene")
    found = check_file(tmp_path / "a.scene")
    assert [d.code for d in found] == ["unreadable-file"] and "symbolic links" in found[0].message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_no_permission_is_a_diagnostic(tmp_path) -> None:
    scene = tmp_path / "locked.scene"
    scene.write_text(SCENE)
    scene.chmod(0)
    assert [d.code for d in check_file(scene)] == ["unreadable-file"]


def test_a_huge_file_is_refused_by_its_size(tmp_path) -> None:
    huge = tmp_path / "huge.scene"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used, and nothing should read it
    assert [d.code for d in check_file(huge)] == ["file-too-large"]


def test_check_folder_does_not_follow_a_scene_symlink_out_of_the_project(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.scene").write_text("CAST\nSECRET: image https://example.com/s.jpg\n\nSECRET LINE.\n")
    folder = project(tmp_path / "proj", {"ok.scene": SCENE})
    (folder / "link.scene").symlink_to(outside / "secret.scene")
    (folder / "inside.scene").symlink_to(folder / "ok.scene")  # inside the project: followed
    done = scenec("check", ".", cwd=folder)
    assert done.returncode == EXIT_ERRORS
    assert "link.scene is a symlink to" in done.stdout and "not followed" in done.stdout
    assert "SECRET" not in done.stdout
    assert "2 files checked" in done.stdout


# --- names too long --------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["check"], ["check", "--format", "json"], ["compile"], ["cost"],
                                     ["status"], ["cancel"]])
def test_a_path_component_over_255_bytes_is_no_traceback(tmp_path, command) -> None:
    done = scenec(*command, LONG_NAME + ".scene", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert done.returncode in (EXIT_ERRORS, EXIT_USAGE)
    if "json" in command:
        assert json.loads(done.stdout)["diagnostics"][0]["code"] == "unreadable-file"


def test_a_media_path_too_long_is_a_diagnostic(tmp_path) -> None:
    folder = project(tmp_path, {"s.scene": f"CAST\nMAYA: image {LONG_NAME}/x.png\n\nMAYA waits.\n"})
    assert codes(check_file(folder / "s.scene")) == Counter({"file-missing": 1})


def test_main_in_process_with_a_long_name(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "json", LONG_NAME]) == EXIT_ERRORS
    assert json.loads(capsys.readouterr().out)["diagnostics"][0]["code"] == "unreadable-file"


# --- CAST FROM: each file once, loops once -------------------------------------------------------

def counting_loader(calls: Counter):
    def load(path: Path):
        calls[path.name] += 1
        return parse_file(path)
    return load


def test_a_diamond_reads_and_reports_the_shared_file_once(tmp_path) -> None:
    folder = project(tmp_path, {
        "d.cast": "CAST\nDORA: image https://example.com/d.jpg\nX: picture y\n",
        "b.cast": "CAST FROM d.cast\n", "c.cast": "CAST FROM d.cast\n",
        "s.scene": "CAST FROM b.cast\nCAST FROM c.cast\nCAST FROM d.cast\n\nDORA waits.\n"})
    calls: Counter = Counter()
    scene_file, _ = parse_file(folder / "s.scene")
    scene, found = resolve(scene_file, loader=counting_loader(calls))
    assert calls == Counter({"b.cast": 1, "c.cast": 1, "d.cast": 1})
    assert [m.name for m in scene.members] == ["DORA"]
    assert "duplicate-member" not in codes(found)
    assert codes(found)["unexpected-token"] + codes(found)["unexpected-character"] == 1


def test_nine_mutually_importing_files_are_read_once_and_the_loop_is_one_error(tmp_path) -> None:
    files = {f"f{i}.cast": "".join(f"CAST FROM f{j}.cast\n" for j in range(9) if j != i)
             + f"CAST\nM{i}: image https://example.com/{i}.jpg\n" for i in range(9)}
    folder = project(tmp_path, {**files, "s.scene": "CAST FROM f0.cast\n\nM0 waits.\n"})
    calls: Counter = Counter()
    scene_file, _ = parse_file(folder / "s.scene")
    scene, found = resolve(scene_file, loader=counting_loader(calls))
    assert set(calls.values()) == {1} and len(calls) == 9
    assert sorted(m.name for m in scene.members) == [f"M{i}" for i in range(9)]
    loops = [d for d in found if d.code == "cast-import-failed"]
    assert len(loops) == 1 and "imports itself" in loops[0].message and "more CAST FROM lines" in loops[0].message


def test_a_self_import_is_one_error_and_the_rest_is_kept(tmp_path) -> None:
    folder = project(tmp_path, {"a.cast": "CAST FROM a.cast\nCAST\nANA: image https://example.com/a.jpg\n",
                                "s.scene": "CAST FROM a.cast\n\nANA waits.\n"})
    found = check_file(folder / "s.scene")
    assert codes(found) == Counter({"cast-import-failed": 1})
    assert found[0].path == str(folder / "a.cast") and found[0].span.line == 1


def test_named_import_takes_only_those_members_in_that_order(tmp_path) -> None:
    folder = project(tmp_path, {
        "inner.cast": "CAST\nNOVA: image https://example.com/n.jpg\n",
        "team.cast": "CAST FROM inner.cast\nCAST\nMAYA: image https://example.com/m.jpg\n"
                     "LEO: image https://example.com/l.jpg\nRIO: image https://example.com/r.jpg\n",
        "s.scene": "CAST FROM team.cast: NOVA, LEO, MAYYA\n\nLEO waits for NOVA.\n"})
    scene_file, _ = parse_file(folder / "s.scene")
    scene, found = resolve(scene_file)
    assert [m.name for m in scene.members] == ["NOVA", "LEO"]
    unknown = [d for d in found if d.code == "unknown-import-name"]
    assert len(unknown) == 1 and unknown[0].hint == "did you mean MAYA?"
    assert (unknown[0].span.line, unknown[0].span.column) == (1, 33)
    assert "unused-member" not in codes(found)


def test_an_unused_imported_member_is_reported_at_the_scenes_import_line(tmp_path) -> None:
    folder = project(tmp_path, {
        "team.cast": "CAST\nMAYA: image https://example.com/m.jpg\nLEO: image https://example.com/l.jpg\n",
        "s.scene": "TITLE: t\nCAST FROM team.cast\n\nMAYA waits.\n"})
    unused = [d for d in check_file(folder / "s.scene") if d.code == "unused-member"]
    assert len(unused) == 1 and unused[0].path == str(folder / "s.scene") and unused[0].span.line == 2
    assert "LEO" in unused[0].message and "CAST FROM team.cast: NAME" in unused[0].hint


def test_a_cast_import_outside_the_project_is_refused(tmp_path) -> None:
    (tmp_path / "far.cast").write_text("CAST\nFAR: image https://example.com/f.jpg\n")
    folder = project(tmp_path / "proj", {"s.scene": "CAST FROM ../far.cast\n" + SCENE})
    assert codes(check_file(folder / "s.scene")) == Counter({"path-outside-project": 1})


# --- scenec.toml ---------------------------------------------------------------------------------------

def test_a_scenec_toml_syntax_error_is_an_error_at_its_line_for_every_scene(tmp_path) -> None:
    folder = project(tmp_path, {"a.scene": "CAST\nMAYA: image ../x.jpg\n\nMAYA waits.\n", "b.scene": SCENE})
    (folder / "scenec.toml").write_text('[media]\nallow = ["../x"\nallow_anywhere = true\n')
    for name in ("a.scene", "b.scene"):
        broken = [d for d in check_file(folder / name) if d.code == "config-error"]
        assert len(broken) == 1 and broken[0].path == str(folder / "scenec.toml")
        assert broken[0].span.line == 3 and "(at line" not in broken[0].message
    outside = [d for d in check_file(folder / "a.scene") if d.code == "path-outside-project"]
    assert len(outside) == 1 and "scenec.toml" in outside[0].hint and "allow its folder" not in outside[0].hint


def test_wrong_types_in_scenec_toml_are_errors_at_their_line(tmp_path) -> None:
    folder = project(tmp_path, {"a.scene": SCENE})
    (folder / "scenec.toml").write_text('# media\n[media]\nallow = "../shared"\nallow_anywhere = "yes"\n')
    broken = sorted((d.span.line, d.message) for d in check_file(folder / "a.scene") if d.code == "config-error")
    assert [line for line, _ in broken] == [3, 4]


def test_a_scenec_toml_that_is_a_folder_is_not_a_project_marker(tmp_path) -> None:
    (tmp_path / "scenec.toml").mkdir()
    (tmp_path / "a.scene").write_text(SCENE)
    assert "config-error" not in codes(check_file(tmp_path / "a.scene"))


# --- parse recovery's limit ---------------------------------------------------------------------------

def test_parse_recovery_says_when_it_stops_and_invents_nothing(tmp_path) -> None:
    text = "CAST\n" + "X: picture y\n" * (MAX_SYNTAX_ERRORS + 10)
    (tmp_path / "many.scene").write_text(text)
    found = codes(check_file(tmp_path / "many.scene"))
    assert found["parse-stopped"] == 1
    assert found["unexpected-token"] + found["unexpected-character"] == MAX_SYNTAX_ERRORS
    assert not {"empty-prompt", "no-reference", "unused-member"} & set(found)


def test_fewer_errors_than_the_limit_do_not_stop_parsing() -> None:
    scene, found = parse_text("CAST\nMAYA: image https://example.com/a.jpg\nX: picture y\n\nMAYA waits.\n")
    assert "parse-stopped" not in codes(found) and scene.paragraphs


# --- linear stages -------------------------------------------------------------------------------------

def test_did_you_mean_compares_a_bounded_number_of_candidates(monkeypatch) -> None:
    import compiler.diagnostics as diagnostics

    compared = []
    monkeypatch.setattr(diagnostics, "edit_distance", lambda a, b, limit=None: compared.append(b) or 9)
    names = [f"N{i:05d}" for i in range(5000)]
    Suggestions(names)("N00001X")
    assert len(compared) == MAX_COMPARED


def test_did_you_mean_is_cached_per_word(monkeypatch) -> None:
    import compiler.diagnostics as diagnostics

    suggestions = Suggestions(["MAYA", "LEO"])
    assert suggestions("MAYAA") == ["MAYA"]
    monkeypatch.setattr(diagnostics, "edit_distance", lambda *args, **kw: pytest.fail("not cached"))
    assert suggestions("MAYAA") == ["MAYA"]


def test_edit_distance_with_a_limit_never_understates() -> None:
    assert edit_distance("KITTEN", "SITTING") == 3
    assert edit_distance("KITTEN", "SITTING", 1) == 2
    assert edit_distance("ABCDEFGH", "ZZZZZZZZ", 2) == 3
    assert did_you_mean("LEOO", ("LEO", "MAYA")) == ["LEO"]


def test_left_recursive_repetition_extends_one_list() -> None:
    """lark's list reuse: every setting lands in the list the first reduction made (no copy per setting)."""
    text = "TITLE: a\n" * 50 + "\n"
    seen: list[int] = []
    original = lalr._kept

    def spy(children):
        kept = original(children)
        seen.append(id(kept))
        return kept

    lalr._kept, saved = spy, lalr._kept
    try:
        tree = lalr.parse(text + "CAST\nA: image x\n\nA waits.\n\n")
    finally:
        lalr._kept = saved
    header = tree.children[0]
    assert header.data == "header" and len(header.children) == 50
    assert id(header.children) in seen and seen.count(id(header.children)) >= 49


def test_compile_file_of_a_fifo_returns(tmp_path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "p.scene")
    result = compile_file(tmp_path / "p.scene")
    assert [d.code for d in result.diagnostics] == ["unreadable-file"] and result.payload is None


def test_check_reports_a_shared_cast_and_config_once_for_all_scenes(tmp_path, monkeypatch, capsys) -> None:
    folder = project(tmp_path, {"shared.cast": "CAST\nMAYA: image https://example.com/m.jpg\nX: picture y\n",
                                "a.scene": "CAST FROM shared.cast\n\nMAYA waits.\n",
                                "b.scene": "CAST FROM shared.cast\n\nMAYA runs.\n"})
    (folder / "scenec.toml").write_text("[media\n")
    monkeypatch.chdir(folder)
    assert main(["check", "--format", "json", "."]) == EXIT_ERRORS
    found = Counter(d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"])
    assert found["config-error"] == 1 and found["unexpected-token"] + found["unexpected-character"] == 1


def test_fan_out_reads_the_shared_file_once(tmp_path) -> None:
    files = {f"b{i}.cast": f"CAST FROM shared.cast\nCAST\nB{i}: image https://example.com/{i}.jpg\n" for i in range(40)}
    files["shared.cast"] = "CAST\nSHARED: image https://example.com/s.jpg\n"
    files["s.scene"] = "".join(f"CAST FROM b{i}.cast\n" for i in range(40)) + "\nSHARED waits.\n"
    folder = project(tmp_path, files)
    calls: Counter = Counter()
    scene_file, _ = parse_file(folder / "s.scene")
    scene, _found = resolve(scene_file, loader=counting_loader(calls))
    assert calls["shared.cast"] == 1 and len(calls) == 41
    assert [m.name for m in scene.members].count("SHARED") == 1 and len(scene.members) == 41


def test_a_megabyte_of_repeated_settings_is_one_error_per_repeat() -> None:
    line = "TITLE: a title said again\n"
    repeats = (1024 * 1024) // len(line)
    scene, found = parse_text(line * repeats + "CAST\nMAYA: image https://example.com/a.jpg\n\nMAYA waits.\n")
    assert len(scene.settings) == repeats and not found
    from compiler.api import compile_text

    result = compile_text(line * repeats + "CAST\nMAYA: image https://example.com/a.jpg\n\nMAYA waits.\n")
    assert codes(result.diagnostics) == Counter({"duplicate-setting": repeats - 1})


def test_a_chain_of_cast_files_deeper_than_the_limit_is_one_error_not_a_recursion_error(tmp_path) -> None:
    from compiler.resolve.cast_import import MAX_IMPORT_DEPTH

    depth = 3 * MAX_IMPORT_DEPTH
    files = {f"c{i}.cast": f"CAST FROM c{i + 1}.cast\nCAST\nM{i}: image https://example.com/{i}.jpg\n"
             for i in range(depth)}
    files[f"c{depth}.cast"] = "CAST\nLAST: image https://example.com/last.jpg\n"
    folder = project(tmp_path, {**files, "s.scene": "CAST FROM c0.cast\n\nM0 waits.\n"})
    found = codes(check_file(folder / "s.scene", probe=False))
    assert found["cast-import-failed"] == 1


def test_an_unreadable_cast_imported_twice_is_read_once(tmp_path) -> None:
    folder = project(tmp_path, {"s.scene": "CAST FROM gone.cast\nCAST FROM gone.cast\n" + SCENE})
    calls: Counter = Counter()
    scene_file, _ = parse_file(folder / "s.scene")
    _, found = resolve(scene_file, loader=counting_loader(calls))
    assert calls == Counter({"gone.cast": 1})
    assert [d.span.line for d in found if d.code == "cast-import-failed"] == [1, 2]


@pytest.mark.parametrize("broken", ["missing", "binary", "too many errors"])
def test_names_from_a_cast_that_could_not_be_read_are_not_reported_unknown(tmp_path, broken) -> None:
    folder = project(tmp_path, {"s.scene": "CAST FROM team.cast\n" + SCENE
                                + "\nLEO\nHello.\n\nWIDE ON LEO\n\n@小李 waves.\n"})
    if broken == "binary":
        (folder / "team.cast").write_bytes(b"\x00\x01")
    elif broken == "too many errors":
        (folder / "team.cast").write_text("CAST\n" + "X: picture y\n" * (MAX_SYNTAX_ERRORS + 5))
    found = codes(check_file(folder / "s.scene", probe=False))
    assert found["cast-import-failed"] == 1
    assert not {"unknown-speaker", "unknown-name", "possible-misspelt-name"} & set(found)
