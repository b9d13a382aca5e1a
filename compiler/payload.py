"""What every target's request model shares (compiler/targets/): the strict base model, URL checks, value
checks and the deterministic JSON of a body.  Each target builds its own models from these on first use."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from .vocabulary import SEED_MAX

__all__ = ["Strict", "check_url", "count_word", "one_of", "to_json", "LOCAL_CONTEXT", "DATA_URI_IMAGE_MIMES",
           "settings_parameters", "checked_body", "UrlItem"]

# Compiled payloads may still name local files (as project-relative paths) that `render` uploads or
# inlines; validate with context=LOCAL_CONTEXT to accept them.  What is sent is validated without it.
LOCAL_CONTEXT = {"allow_local": True}
_URL = re.compile(r"^(?:https?|oss)://\S+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
# The image data URIs the DashScope endpoint reads; a target passes its own when it takes fewer.
DATA_URI_IMAGE_MIMES: tuple[str, ...] = ("image/jpeg", "image/png", "image/bmp", "image/webp")


def _image_data(mimes: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"^data:(" + "|".join(re.escape(m) for m in mimes) + r");base64,[A-Za-z0-9+/=]+$")


def check_url(value: str, info: ValidationInfo, *, image: bool,
              image_mimes: tuple[str, ...] = DATA_URI_IMAGE_MIMES) -> str:
    """An http(s) or oss:// URL; an image data URI of `image_mimes` where an image is; a project-relative
    local path only under LOCAL_CONTEXT."""
    if _URL.match(value) or (image and image_mimes and _image_data(image_mimes).match(value)):
        return value
    local_ok = bool(info.context and info.context.get("allow_local"))
    if local_ok and value and not _SCHEME.match(value):
        return value
    raise ValueError("must be an http(s) or oss:// URL" + (" or an image data URI" if image and image_mimes else ""))


def one_of(value: str, allowed: tuple[str, ...]) -> str:
    """A value from a target's table (checked at run time: a checker cannot read a Literal built from a table)."""
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}")
    return value


def count_word(count: int) -> str:
    """A small count as a reader says it: "at most one first_frame"."""
    return "one" if count == 1 else str(count)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def settings_parameters(parameters: tuple[str, ...], *, resolutions: tuple[str, ...], ratios: tuple[str, ...],
                        duration: tuple[int, int]) -> type[BaseModel]:
    """The `parameters` object of a target that sends ir.Settings fields under their own names (wan2.7, wan3.0,
    HappyHorse): `parameters` of them, in that order, each optional (left out, the service's default applies);
    RESOLUTION and RATIO from the target's tables, DURATION in its range, SEED in the language's."""
    known: dict[str, Any] = {
        "resolution": (str | None, None), "ratio": (str | None, None),
        "duration": (int | None, Field(default=None, ge=duration[0], le=duration[1])),
        "prompt_extend": (bool | None, None), "watermark": (bool | None, None),
        "seed": (int | None, Field(default=None, ge=0, le=SEED_MAX))}
    tables = {"resolution": resolutions, "ratio": ratios}
    validators = {f"_{name}": field_validator(name)(_table_check(allowed)) for name, allowed in tables.items()
                  if name in parameters}
    fields = {name: known[name] for name in parameters}
    model: type[BaseModel] = create_model("Parameters", __base__=Strict, __validators__=validators, **fields)
    return model


def _table_check(allowed: tuple[str, ...]) -> Any:
    def check(cls: type[BaseModel], value: str | None) -> str | None:
        return None if value is None else one_of(value, allowed)
    return check


def checked_body(name: str, models: tuple[str, ...], input_model: type[BaseModel],
                 parameters_model: type[BaseModel]) -> type[BaseModel]:
    """The request body {model, input, parameters} of a target whose `model` must be one of `models`."""
    def check_model(cls: type[BaseModel], value: str) -> str:
        return one_of(value, models)

    body: type[BaseModel] = create_model(
        name, __base__=Strict, __validators__={"_model": field_validator("model")(check_model)},
        model=(str, ...), input=(input_model, ...), parameters=(parameters_model, ...))
    return body


# The names the target modules were first written against.
_Strict = Strict
_check_url = check_url


class UrlItem(Strict):
    """A media item {type, url}, its URL an http(s) or oss:// one (a local path only under LOCAL_CONTEXT), never a
    data URI: the items of wan3.0, HappyHorse and Kling, none of which documents one.  A target's subclass
    narrows `type` to its own Literal."""

    type: str
    url: str

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        return check_url(value, info, image=False)


def to_json(payload: BaseModel, *, indent: int | None = 2) -> str:
    """Deterministic JSON: fields in model order, absent options left out, UTF-8 text kept as is."""
    return json.dumps(payload.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=indent)
