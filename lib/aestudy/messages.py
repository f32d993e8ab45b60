"""One-line messages about parameters (a parameter file, a notebook's parameter cell, a command-line
value) that quote at most a short excerpt of what they hold: a file anyone can write must not make
a 1 MB "line". Every value shorter than `EXCERPT` characters is quoted whole; a longer one is cut
to `EXCERPT` characters (with its length). `aestudy.schema` re-exports them with `ParamsError`.
"""

from __future__ import annotations

import difflib
import reprlib

from pydantic import BaseModel, ValidationError

from .errors import BadInput


class ParamsError(BadInput, ValueError):
    """A parameter file, a notebook's parameters or a command-line value is invalid; one line
    (in a notebook too: `BadInput._render_traceback_`)."""


EXCERPT = 80  # characters of an input a message quotes at most
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = EXCERPT + 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxlevel = 3


def clip(text, limit: int = EXCERPT) -> str:
    """`text` on one line and at most `limit` characters (cut ones end in '...')."""
    text = str(text)
    if not text.isprintable():
        text = repr(text[: limit * 2])[1:-1]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value, limit: int = EXCERPT) -> str:
    """repr(value) as a message quotes it: whole when short, else cut (never built in full)."""
    if isinstance(value, str) and len(value) > limit:
        return f"{repr(value[:limit])[: limit - 3]}... ({len(value):,} characters)"
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def suggest(word, choices) -> str:
    word = str(word)
    if len(word) > EXCERPT:  # no name is that long, and difflib's time grows with it
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown_key(where: str, name, known) -> ParamsError:
    return ParamsError(
        f"{where}.{clip(name)}: unknown key{suggest(name, known)} (allowed: {', '.join(map(str, known))})"
    )


def loc(parts) -> str:
    return ".".join(clip(p, 40) for p in parts)


def error_line(where: str, err: dict, known=(), default: bool = False) -> str:
    """`where: what is wrong` for one pydantic error, its input cut short; `default`: the value is
    the field's default (the file does not set it), which the line says."""
    msg = clip(err["msg"].removeprefix("Value error, "), 160)
    if err["type"] == "extra_forbidden":
        name = err["loc"][-1]
        msg = f"unknown key '{clip(name)}'{suggest(name, known)} (allowed: {', '.join(map(str, known))})"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err.get("loc") and "got" not in msg:
        msg = f"{msg} (got {shown(err.get('input'))}{', its default' if default else ''})"
    elif default:
        msg = f"{msg} (its default)"
    return f"{where}: {msg}"


def validate(model: type[BaseModel], values: dict, where: str, section_of=lambda field: "") -> dict:
    """`values` checked against `model` (unknown keys first, with a suggestion); plain dict back.
    `section_of(field)` names the part of `where` a field lives in (e.g. 'grid' or 'params')."""
    fields = tuple(model.model_fields)
    for key in values:
        if key not in fields:
            raise unknown_key(where + section_of(key), key, fields)
    try:
        return model(**values).model_dump(mode="json")
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        if field:
            line = error_line(
                f"{where}{section_of(field)}.{loc(err['loc'])}",
                err,
                _keys_at(model, err["loc"]),
                field not in values,
            )
            raise ParamsError(line) from None
        raise ParamsError(error_line(where + section_of(""), err)) from None  # a whole-model rule


def _keys_at(model: type[BaseModel], path) -> tuple[str, ...]:
    """The keys allowed where an unknown key `path[-1]` was found: the fields of the model
    nested at `path[:-1]` (a section such as `space` or `recipe`)."""
    for part in path[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        inner = getattr(field, "annotation", None)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return ()
        model = inner
    return tuple(model.model_fields)
