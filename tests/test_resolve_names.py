"""resolve/names.py: cast names written in another case are found, longest name first, in any script."""

from __future__ import annotations

from compiler.api import parse_text, resolve


def not_as_declared(cast: str, script: str) -> list[tuple[str, int]]:
    """(the text, its column) of each name-not-as-declared warning."""
    scene_file, _ = parse_text(f"CAST\n{cast}\n\n{script}\n")
    _, diagnostics = resolve(scene_file)
    found = [d for d in diagnostics if d.code == "name-not-as-declared"]
    assert all(d.span is not None for d in found)
    return [(d.message.split(" is not written")[0].strip("'"), d.span.column) for d in found if d.span]


def test_a_name_in_another_case_is_found_as_a_whole_word() -> None:
    cast = "LEO: image https://example.com/leo.jpg"
    assert not_as_declared(cast, "LEO nods at Leo, then at leo.") == [("Leo", 13), ("leo", 26)]
    assert not_as_declared(cast, "LEO eats a leopard and sits on Leo_2.") == []


def test_a_longer_name_that_runs_on_gives_way_to_a_shorter_one() -> None:
    cast = "LEO: image https://example.com/leo.jpg\n@Leo-Xu: image https://example.com/xu.jpg"
    assert not_as_declared(cast, "LEO and @Leo-Xu see leo-xu.") == [("leo-xu", 21)]
    # "leo-xu" runs on into "leo-xuan": the next name that ends at a word boundary, LEO, is the one found.
    assert not_as_declared(cast, "LEO and @Leo-Xu see leo-xuan.") == [("leo", 21)]


def test_names_written_without_spaces_need_no_boundary_beside_spaced_ones() -> None:
    cast = "@小李: image https://example.com/li.jpg\nLEO: image https://example.com/leo.jpg"
    assert not_as_declared(cast, "@小李 and LEO wait. 小李走进 and Leo leaves.") == [("小李", 19), ("Leo", 28)]
