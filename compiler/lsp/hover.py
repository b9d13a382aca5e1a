"""Hover: a cast name (kind, media index, identifier, voice, source, role), a setting (meaning, allowed
values), and anywhere in a shot the exact prompt text that shot compiles to."""

from __future__ import annotations

import os

from lsprotocol import types as lsp

from .. import api, ir
from ..source import Span
from ..targets import Naming, naming_of, target_of
from .analysis import Analysis
from .occurrences import at_offset, member_names
from .positions import Encoding, to_offset, to_range
from .settings_help import describe

__all__ = ["hover", "member_markdown", "shot_prompt"]

Found = tuple[str, Span | None]  # the hover's markdown, and the range it is about (None: the cursor's)


def hover(analysis: Analysis, position: lsp.Position, encoding: Encoding) -> lsp.Hover | None:
    offset = to_offset(analysis.source, position, encoding)
    for finder in (_on_name, _on_setting, _on_shot):
        found = finder(analysis, offset)
        if found is not None:
            text, span = found
            return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                             range=to_range(analysis.source, span, encoding) if span else None)
    return None


def _on_name(analysis: Analysis, offset: int) -> Found | None:
    if analysis.scene is None:
        return None
    occurrence = at_offset(analysis.scene_file, member_names(analysis.scene), offset)
    member = analysis.scene.member(occurrence.name) if occurrence else None
    if member is None or occurrence is None:
        return None
    return member_markdown(member, str(analysis.path), naming_of(analysis.scene)), occurrence.span


def member_markdown(member: ir.CastMember, here: str, naming: Naming) -> str:
    """A cast member as hover shows it: what the target's prompt calls it and where it sits in the request."""
    heading = f"**{member.name}**" + (f" ({member.description.strip('()')})" if member.description else "")
    lines = [heading, "",
             f"- {member.role}, {member.kind}: the prompt calls it **{naming.identifiers.get(member.name, '')}**",
             f"- media index {naming.media_index.get(member.name)} in the request",
             f"- source: `{member.media.text}`"]
    if member.voice is not None:
        called = naming.voices.get(member.name)  # a target that sends voices as clips of their own names them
        lines.append(f"- voice: `{member.voice.text}`" + (f", a clip of its own: the prompt calls it **{called}**"
                                                           if called else ""))
    if member.length is not None:
        lines.append(f"- length: {member.length:g} s")
    if os.path.abspath(member.path) != os.path.abspath(here):
        lines.append(f"- declared in `{os.path.relpath(member.path, os.path.dirname(here))}`")
    return "\n".join(lines)


def _on_setting(analysis: Analysis, offset: int) -> Found | None:
    for setting in analysis.scene_file.settings:
        if setting.span.start <= offset <= setting.span.end:
            text = describe(setting.key.text, target_of(analysis.scene.settings.model) if analysis.scene else None)
            return (text, setting.key.span) if text else None
    for key, specs in (("FIRST FRAME", analysis.scene_file.first_frames),
                       ("STORYBOARD", analysis.scene_file.storyboards)):
        for spec in specs:
            line = analysis.source.line_starts[spec.span.line - 1]
            if line <= offset <= spec.span.end:
                text = describe(key)
                return (text, None) if text else None
    return None


def _on_shot(analysis: Analysis, offset: int) -> Found | None:
    scene = analysis.scene
    if scene is None or not scene.shots or not analysis.scene_file.paragraphs:
        return None
    if offset < analysis.scene_file.paragraphs[0].span.start:
        return None
    index = None
    for number, shot in enumerate(scene.shots):
        if shot.span is not None and shot.span.start <= offset:
            index = number
    if index is None:
        return None
    items = shot_requests(scene)
    if items is not None:  # the shots go apart (Kling's multi_prompt): what the service reads of this one
        return (f"**Shot {index + 1}** is sent as its own prompt (multi_prompt item {index + 1}):\n\n"
                f"> {items[index]}", None) if index < len(items) else None
    text = shot_prompt(scene, index)
    return (f"**Shot {index + 1}** compiles to:\n\n> {text}", None) if text else None


def shot_requests(scene: ir.Scene) -> list[str] | None:
    """Each shot's own prompt where the scene's target sends the shots apart, else None."""
    from ..targets import target_of

    target = target_of(scene.settings.model)
    return target.shot_requests(scene, target.naming(scene))


def shot_prompt(scene: ir.Scene, index: int) -> str | None:
    """The prompt text of one shot: the prompt of the shots up to it, less the prompt of those before it.

    The templates write shots in order after the scene's opening, so the shorter prompt is a prefix of
    the longer; when it is not (a template that ends with a summary), the hover says nothing."""
    before = api.render_prompt(scene._replace(shots=scene.shots[:index]))
    upto = api.render_prompt(scene._replace(shots=scene.shots[:index + 1]))
    if not upto.startswith(before):
        return None
    return upto[len(before):].strip() or None
