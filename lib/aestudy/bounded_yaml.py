"""Reading a parameter file's YAML within bounds, whoever reads it (the runner's `paramfile`, the
report's `profile` and `compare`): a file of at most `MAX_BYTES`, nested at most `MAX_DEPTH`
levels, and no YAML alias, or one line (`ParamsError`) naming the file and where.

Why each bound: an alias makes a node shared, so a few hundred bytes of anchors and aliases (the
"billion laughs") load as a structure that every later step that walks it (pydantic's copy, a
message quoting the input, a cache key's JSON) expands to gigabytes; a parameter file never needs
one (write the value out). Nesting is refused before PyYAML's composer recurses into it (a
RecursionError traceback otherwise), and size before the file is read. The file is checked as a
stream of parser events (libyaml's when installed), so a hostile file is refused at its first
offending event, in milliseconds and without building anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .messages import clip
from .schema import ParamsError

MAX_BYTES = 1_000_000  # the committed profiles are a few kB
MAX_DEPTH = 20  # they nest 6 levels (stages.semisup.params.space.lr: [...])

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def load(path) -> tuple[str, Any]:
    """(text, parsed YAML) of a parameter file; ParamsError with one line when it is missing,
    too large, not UTF-8, malformed, nested too deeply or uses an alias."""
    text = read_text(path)
    return text, parse(text, path)


def read_text(path) -> str:
    """The UTF-8 text of `path`, refused unread when it is larger than MAX_BYTES."""
    path = Path(path)
    if path.is_dir():
        raise ParamsError(
            f"{path}: a folder, not a parameter file (give a YAML file such as params/default.yaml)"
        )
    if not path.is_file():
        raise ParamsError(f"{path}: parameter file not found")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_BYTES:
        size = path.stat().st_size
        raise ParamsError(
            f"{path}: {size:,} bytes; a parameter file may hold at most {MAX_BYTES:,} "
            "(is it a parameter file?)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); is it a parameter file?"
        ) from None


def parse(text: str, where) -> Any:
    """The YAML document in `text` (plain dicts, lists and scalars), checked first as a stream of
    events: no alias, at most MAX_DEPTH levels of nesting, no key twice in one mapping (YAML lets
    the last win, so a second `stages:` or `train_size:` would silently replace the first)."""
    try:
        depth = 0
        keys = _Keys(where)
        for event in yaml.parse(text, Loader=_LOADER):
            keys.see(event)
            if isinstance(event, yaml.AliasEvent):
                raise ParamsError(
                    f"{where}: {_at(event)}YAML alias '*{clip(event.anchor, 40)}': aliases are not "
                    "allowed in a parameter file (write the value out)"
                )
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ParamsError(
                        f"{where}: {_at(event)}nested more than {MAX_DEPTH} levels deep "
                        "(a parameter file needs a few)"
                    )
            elif isinstance(event, _CLOSE):
                depth -= 1
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)
    except ParamsError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [""])[0]
        raise ParamsError(f"{where}: malformed YAML{at}: {clip(problem, 120)}") from None
    except (
        ValueError,
        OverflowError,
        RecursionError,
    ) as exc:  # a scalar Python refuses (an int of 5000 digits)
        raise ParamsError(f"{where}: a value cannot be read: {clip(str(exc), 120)}") from None


def _at(event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


class _Keys:
    """Each open mapping's keys so far, from the parser's events: a key met twice is refused."""

    def __init__(self, where):
        self.where, self.stack = where, []  # per open collection: None (a sequence) or [keys, next is a key]

    def see(self, event) -> None:
        if isinstance(event, yaml.ScalarEvent):
            top = self.stack[-1] if self.stack else None
            if top is not None and top[1]:
                if event.value in top[0]:
                    raise ParamsError(
                        f"{self.where}: {_at(event)}duplicate key '{clip(event.value, 40)}' (YAML would "
                        "keep only the last; write it once)"
                    )
                top[0].add(event.value)
            self._node_done()
        elif isinstance(event, yaml.MappingStartEvent):
            self.stack.append([set(), True])
        elif isinstance(event, yaml.SequenceStartEvent):
            self.stack.append(None)
        elif isinstance(event, _CLOSE):
            self.stack.pop()
            self._node_done()

    def _node_done(self) -> None:
        """A whole node ended inside the enclosing mapping: a key is followed by its value."""
        if self.stack and self.stack[-1] is not None:
            self.stack[-1][1] = not self.stack[-1][1]
