"""Numbering the references: each cast member's place in the request's media list and the name the prompt
calls it by ('Image 2', 'Video 1', '图1', 'reference image').

The narrow interface (members in declaration order in, numbered members out) is on purpose: the
identifiers are the target API's convention and are meant to move to the target back-ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import ir

__all__ = ["number", "identifier_for"]


def number(references: Sequence[ir.CastMember], language: str, *, after_first_frame: bool) -> list[ir.CastMember]:
    """Media order is declaration order (after a first frame); images and videos are counted separately."""
    offset = 1 if after_first_frame else 0
    single = len(references) == 1
    counts = {"image": 0, "video": 0}
    numbered = []
    for index, member in enumerate(references):
        counts[member.kind] += 1
        ordinal = counts[member.kind]
        numbered.append(member._replace(media_index=offset + index, ordinal=ordinal,
                                        identifier=identifier_for(member.kind, ordinal, single, language)))
    return numbered


def identifier_for(kind: str, ordinal: int, single: bool, language: str) -> str:
    """The API's name for a reference: 'Image 2', 'Video 1', '图1'; 'reference image' when it is the only one."""
    if language == "zh":
        if single:
            return "参考图片" if kind == "image" else "参考视频"
        return f"{'图' if kind == 'image' else '视频'}{ordinal}"
    if single:
        return f"reference {kind}"
    return f"{'Image' if kind == 'image' else 'Video'} {ordinal}"
