"""Read YAML rule files into pydantic models, with every problem pointed at ``file:line:col``.

Rule files are plain YAML checked by pydantic models. This module keeps the two apart but
connected: the YAML side remembers where every value is written, and each pydantic error
is mapped back to that place, with the user's own field path and a plain-words message::

    rules/am.yaml:42:13: plans.kam.components[1].tiers[2].rate: expected a decimal number, got "12%"
      42 |       - {upto: 100, rate: 12%}
         |                           ^

YAML is read with :class:`RuleYamlLoader`, a :class:`yaml.SafeLoader` that also refuses
duplicate keys, alias bombs, non-finite numbers and non-standard tags, and reads every YAML
float as an exact :class:`~decimal.Decimal` (a Python float never appears).

>>> from decimal import Decimal
>>> from pydantic import BaseModel
>>> class Plan(BaseModel):
...     rate: Decimal
>>> load_model_text("rate: 0.1\\n", "plan.yaml", Plan).rate
Decimal('0.1')
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, NoReturn, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails
from yaml.error import Mark
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from compcalc.errors import Diagnostic, RuleFileError

__all__ = [
    "MAX_ALIASES",
    "MAX_NODES",
    "Position",
    "Positions",
    "RuleYamlLoader",
    "format_path",
    "load_model",
    "load_model_text",
    "load_model_text_with_positions",
    "read_rule_text",
    "read_yaml_with_positions",
    "validation_diagnostics",
]

M = TypeVar("M", bound=BaseModel)

#: A real rule file reuses a handful of blocks; hundreds of aliases means a mistake or an attack.
MAX_ALIASES = 200
#: Upper bound on the values a document may expand to once aliases are followed (billion laughs).
MAX_NODES = 1_000_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_NULL_TAG = "tag:yaml.org,2002:null"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STANDARD_PREFIX = "tag:yaml.org,2002:"

# PyYAML counts these as line breaks; splitting the same way keeps excerpts on the right line.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SHOW_LIMIT = 40


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a source text."""

    line: int
    column: int


def _position(mark: Mark | None) -> Position | None:
    return None if mark is None else Position(mark.line + 1, mark.column + 1)


@dataclass
class _Spot:
    """Where one YAML node starts, and where its children are (shared by aliases)."""

    at: Position | None
    # Block collections and empty values start somewhere unhelpful (the next line, or
    # nowhere); their key is the place a person looks at.
    prefer_key: bool
    children: dict[Hashable, _Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    key: Position | None  # where the mapping key is written; None for list items
    spot: _Spot

    def report_at(self) -> Position | None:
        if self.key is not None and (self.spot.prefer_key or self.spot.at is None):
            return self.key
        return self.spot.at


@dataclass(frozen=True)
class _Source:
    """A source name and its lines, to build diagnostics with excerpts."""

    name: str
    lines: tuple[str, ...]

    @classmethod
    def of(cls, name: str, text: str) -> _Source:
        return cls(name, tuple(_LINE_BREAK.split(text)))

    def excerpt(self, at: Position) -> str:
        if not 1 <= at.line <= len(self.lines):
            return ""
        text = self.lines[at.line - 1]
        # Keep tabs as tabs so the caret lines up whatever the terminal's tab width.
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: at.column - 1])
        return f"{at.line:>4} | {text}\n{'':>4} | {pad}^"

    def diagnostic(self, at: Position | None, path: Sequence[Hashable], message: str) -> Diagnostic:
        if at is None:
            return Diagnostic(self.name, None, None, format_path(path), message)
        return Diagnostic(
            self.name, at.line, at.column, format_path(path), message, self.excerpt(at)
        )


class Positions:
    """Where each value of a parsed YAML document is written, found by its path.

    A path is a tuple of mapping keys and list indices from the document root.

    >>> data, positions = read_yaml_with_positions("a:\\n  b: [1, 2]\\n", "x.yaml")
    >>> positions.at(("a", "b", 1))
    Position(line=2, column=10)
    >>> positions.key_at(("a", "b"))
    Position(line=2, column=3)
    >>> print(positions.diagnostic(("a", "b"), "not allowed here"))
    x.yaml:2:3: a.b: not allowed here
       2 |   b: [1, 2]
         |   ^
    """

    def __init__(self, source: _Source, root: _Spot | None) -> None:
        self._source = source
        self._root = root

    @property
    def source(self) -> str:
        """The source name diagnostics carry (usually the file path)."""
        return self._source.name

    def _entries(self, path: Iterable[Hashable]) -> tuple[list[_Entry], bool]:
        """The entries along ``path`` as far as it exists, and whether it all exists."""
        entries: list[_Entry] = []
        spot = self._root
        for key in path:
            entry = None if spot is None else spot.children.get(key)
            if entry is None:
                return entries, False
            entries.append(entry)
            spot = entry.spot
        return entries, spot is not None

    def at(self, path: Sequence[Hashable]) -> Position | None:
        """Where the value at ``path`` starts, or None if there is no such value."""
        entries, complete = self._entries(path)
        if not complete:
            return None
        return entries[-1].spot.at if entries else self._root_at()

    def key_at(self, path: Sequence[Hashable]) -> Position | None:
        """Where the last key of ``path`` is written (None for list items and unknown paths)."""
        entries, complete = self._entries(path)
        return entries[-1].key if complete and entries else None

    def nearest(self, path: Sequence[Hashable]) -> Position | None:
        """The best place to report a problem at ``path``: its key or value, else the parent's."""
        entries, _ = self._entries(path)
        for entry in reversed(entries):
            found = entry.report_at()
            if found is not None:
                return found
        return self._root_at()

    def diagnostic(self, path: Sequence[Hashable], message: str) -> Diagnostic:
        """A diagnostic for ``path`` at its nearest position, with an excerpt and caret."""
        return self._source.diagnostic(self.nearest(path), path, message)

    def _root_at(self) -> Position | None:
        return None if self._root is None else self._root.at


def format_path(path: Iterable[Hashable]) -> str:
    """The user's field path: ``plans.kam.components[1].rate``.

    >>> format_path(("plans", "kam", "components", 1, "rate"))
    'plans.kam.components[1].rate'
    >>> format_path(("quotas", "2024 Q1", 2024))
    'quotas["2024 Q1"][2024]'
    """
    text = ""
    for key in path:
        if isinstance(key, str) and _SIMPLE_KEY.fullmatch(key):
            text += f".{key}" if text else key
        elif isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        else:
            text += f"[{_show(key)}]"
    return text


# --------------------------------------------------------------------------- YAML loader


class RuleYamlLoader(yaml.SafeLoader):
    """A :class:`yaml.SafeLoader` for rule files: positions, no duplicates, no bombs, no floats.

    - records where every node starts (see :meth:`positions`);
    - refuses duplicate keys, more than ``max_aliases`` aliases, documents that expand to more
      than ``max_nodes`` values, recursive aliases, ``.inf``/``.nan`` and non-standard tags;
    - reads YAML floats as exact :class:`~decimal.Decimal` from their text.

    Prefer :func:`read_yaml_with_positions` or :func:`load_model`; used directly, the loader
    raises :class:`~compcalc.errors.RuleFileError` for everything but YAML syntax errors:

    >>> RuleYamlLoader("rate: 0.1\\nshare: 1_000.5\\n").load_document()
    {'rate': Decimal('0.1'), 'share': Decimal('1000.5')}
    """

    def __init__(
        self,
        stream: str,
        source: str = "<rules>",
        *,
        max_aliases: int = MAX_ALIASES,
        max_nodes: int = MAX_NODES,
    ) -> None:
        super().__init__(stream)
        self.source_text = _Source.of(source, stream if isinstance(stream, str) else "")
        self.max_aliases = max_aliases
        self.max_nodes = max_nodes
        #: Problems that do not stop reading (duplicate keys, ``.inf``): reported with the rest.
        self.problems: list[Diagnostic] = []
        self._aliases = 0
        self._root: Node | None = None
        self._spots: dict[Node, _Spot] = {}

    # -- public ------------------------------------------------------------------

    def load_document(self) -> Any:
        """Compose, check and construct the single document; soft problems go to ``problems``."""
        node = self.get_single_node()
        return None if node is None else self.construct_document(node)

    def get_single_data(self) -> Any:
        """What :func:`yaml.load` calls: the data, or RuleFileError if anything was wrong."""
        data = self.load_document()
        if self.problems:
            raise RuleFileError(self.problems)
        return data

    def positions(self) -> Positions:
        """Where each value of the loaded document is written."""
        root = None if self._root is None else self._spot(self._root)
        return Positions(self.source_text, root)

    # -- composing: count aliases, then check the whole node graph before building anything

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > self.max_aliases:
                # check_event() has just parsed the alias into current_event.
                self._refuse(
                    self.current_event.start_mark,
                    f"this file uses more than {self.max_aliases} aliases (*name); "
                    "refusing to load it",
                )
        return super().compose_node(parent, index)

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            self._root = node
            _GraphCheck(self).run(node)
        return node

    def _refuse(self, mark: Mark | None, message: str, path: Sequence[Hashable] = ()) -> NoReturn:
        raise RuleFileError(
            [*self.problems, self.source_text.diagnostic(_position(mark), path, message)]
        )

    # -- constructing: remember positions; merge keys are flattened by the time super() returns

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        spot = self._spot(node)
        for key_node, value_node in node.value:
            # Keys were built (deep) by super(); read them back from its cache.
            key = self.constructed_objects[key_node]
            spot.children[key] = _Entry(_position(key_node.start_mark), self._spot(value_node))
        return mapping

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> list[Any]:
        items = super().construct_sequence(node, deep=deep)
        spot = self._spot(node)
        for index, child in enumerate(node.value):
            spot.children[index] = _Entry(None, self._spot(child))
        return items

    def _spot(self, node: Node) -> _Spot:
        spot = self._spots.get(node)
        if spot is None:
            empty = node.tag == _NULL_TAG and node.value == ""
            prefer_key = isinstance(node, MappingNode | SequenceNode) or empty
            spot = self._spots[node] = _Spot(_position(node.start_mark), prefer_key)
        return spot

    def construct_decimal(self, node: ScalarNode) -> Decimal | str:
        """YAML float -> exact Decimal of its text (``0.1`` is ``Decimal("0.1")``)."""
        text = self.construct_scalar(node)
        number = _yaml_float(text)
        # Not finite: already reported by the graph check; keep the text for validation.
        return text if number is None else number

    def construct_date_or_text(self, node: ScalarNode) -> Any:
        """YAML timestamp -> date/datetime; an impossible date (2024-02-30) stays text.

        Kept as text, the value reaches the model, which reports it at its field path
        ("expected a date") instead of PyYAML's bare ValueError without a position.
        """
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_refused(self, node: Node) -> Any:
        """Any tag without a safe constructor (``!!python/object`` ...)."""
        self._refuse(node.start_mark, _tag_message(node.tag))

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, ArithmeticError, TypeError) as exc:
            # Bad text under an explicit tag (``!!int abc``, ``!!bool maybe``) raises bare
            # Python errors; give them the node's position.
            text = node.value if isinstance(node, ScalarNode) else "this value"
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {_show(text)} as {_tag_name(node.tag)}", node.start_mark
            ) from exc


RuleYamlLoader.add_constructor(_FLOAT_TAG, RuleYamlLoader.construct_decimal)
RuleYamlLoader.add_constructor(_TIMESTAMP_TAG, RuleYamlLoader.construct_date_or_text)
RuleYamlLoader.add_constructor(None, RuleYamlLoader.construct_refused)


class _GraphCheck:
    """One pass over the composed node graph, before anything is constructed.

    Counts the values the document expands to (refusing bombs and cycles), and finds
    duplicate keys (on the keys as written, before merge keys are flattened), non-finite
    floats and unsupported tags, each with the field path of its first occurrence.
    """

    def __init__(self, loader: RuleYamlLoader) -> None:
        self._loader = loader
        self._sizes: dict[Node, int] = {}  # expanded size of each node already checked
        self._active: set[Node] = set()  # nodes on the current walk, to see cycles
        self._refused: list[Diagnostic] = []

    def run(self, root: Node) -> None:
        self._size(root, ())
        if self._refused:
            raise RuleFileError(self._refused + self._loader.problems)

    def _size(self, node: Node, path: tuple[Hashable, ...]) -> int:
        known = self._sizes.get(node)
        if known is not None:
            return known
        if node in self._active:
            self._loader._refuse(
                node.start_mark, "a value contains itself through an alias; refusing to load it"
            )
        self._active.add(node)
        self._check_tag(node, path)
        if isinstance(node, MappingNode):
            size = 1 + self._mapping_size(node, path)
        elif isinstance(node, SequenceNode):
            size = 1 + sum(self._size(child, (*path, i)) for i, child in enumerate(node.value))
        else:
            size = 1
        self._active.discard(node)
        if size > self._loader.max_nodes:
            self._loader._refuse(
                node.start_mark,
                f"aliases expand this file to more than {self._loader.max_nodes:,} values; "
                "refusing to load it",
            )
        self._sizes[node] = size
        return size

    def _mapping_size(self, node: MappingNode, path: tuple[Hashable, ...]) -> int:
        seen: dict[Any, Mark] = {}
        size = 0
        for key_node, value_node in node.value:
            size += self._size(key_node, path)
            if key_node.tag == _MERGE_TAG:
                # Merged entries belong to this mapping, so they share its path.
                size += self._size(value_node, path)
                continue
            key = self._key(key_node)
            if key in seen:
                message = f"duplicate key {_show(key)}; first defined on line {seen[key].line + 1}"
                self._report(key_node.start_mark, path, message)
            elif key is not _UNREADABLE:
                seen[key] = key_node.start_mark
            size += self._size(value_node, (*path, key))
        return size

    def _key(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode) or node.tag not in self._loader.yaml_constructors:
            return _UNREADABLE
        key = self._loader.construct_object(node, deep=True)
        return key if isinstance(key, Hashable) else _UNREADABLE

    def _check_tag(self, node: Node, path: tuple[Hashable, ...]) -> None:
        if node.tag in (_MERGE_TAG, _VALUE_TAG):
            return
        if node.tag not in self._loader.yaml_constructors:
            at = _position(node.start_mark)
            self._refused.append(
                self._loader.source_text.diagnostic(at, path, _tag_message(node.tag))
            )
        elif node.tag == _FLOAT_TAG and _yaml_float(str(node.value)) is None:
            message = f"expected a finite decimal number, got {node.value}"
            self._report(node.start_mark, path, message)

    def _report(self, mark: Mark | None, path: Sequence[Hashable], message: str) -> None:
        self._loader.problems.append(
            self._loader.source_text.diagnostic(_position(mark), path, message)
        )


class _Unreadable:
    def __repr__(self) -> str:
        return "?"


_UNREADABLE: Any = _Unreadable()  # a key that is not a plain scalar: never a duplicate
_ABSENT: Any = object()  # a loc step that is not a key or index in the data


def _yaml_float(text: str) -> Decimal | None:
    """The exact value of a YAML 1.1 float's text, or None if not finite (``.inf``, ``.nan``)."""
    cleaned = text.replace("_", "").strip()
    sign = -1 if cleaned.startswith("-") else 1
    digits = cleaned.lstrip("+-")
    try:
        if ":" in digits:  # YAML 1.1 base 60: 1:30.5 is 90.5
            value = Decimal(0)
            for part in digits.split(":"):
                value = value * 60 + Decimal(part)
        else:
            value = Decimal(digits)
    except InvalidOperation:
        return None
    return sign * value if value.is_finite() else None


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_STANDARD_PREFIX) if tag.startswith(_STANDARD_PREFIX) else tag


def _tag_message(tag: str) -> str:
    return (
        f"unsupported tag {_show(_tag_name(tag))}; rule files hold only plain values "
        "(text, numbers, dates, true/false, lists and mappings)"
    )


# --------------------------------------------------------------------------- reading


def read_yaml_with_positions(text: str, source: str = "<rules>") -> tuple[Any, Positions]:
    """Parse rule-file YAML into plain data and the position of each value.

    Raises :class:`~compcalc.errors.RuleFileError` with every problem found.

    >>> data, positions = read_yaml_with_positions("plans:\\n  kam: {rate: 0.05}\\n", "r.yaml")
    >>> data
    {'plans': {'kam': {'rate': Decimal('0.05')}}}
    >>> positions.at(("plans", "kam", "rate"))
    Position(line=2, column=15)
    """
    data, positions, problems = _parse(text, source)
    if problems:
        raise RuleFileError(problems)
    return data, positions


def _parse(text: str, source: str) -> tuple[Any, Positions, list[Diagnostic]]:
    text = text.removeprefix("\ufeff")
    loader: RuleYamlLoader | None = None
    try:
        loader = RuleYamlLoader(text, source)  # already reads: may raise ReaderError
        data = loader.load_document()
        return data, loader.positions(), loader.problems
    except yaml.YAMLError as exc:
        diagnostic = _yaml_error_diagnostic(exc, _Source.of(source, text), text)
        raise RuleFileError([diagnostic]) from exc
    except RecursionError:
        message = "the file is nested too deeply to read"
        raise RuleFileError([Diagnostic(source, None, None, "", message)]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_error_diagnostic(exc: yaml.YAMLError, src: _Source, text: str) -> Diagnostic:
    if isinstance(exc, ReaderError):
        # Raised before any token: it has an index into the text, not a mark.
        before = _LINE_BREAK.split(text[: exc.position])
        where = Position(len(before), len(before[-1]) + 1)
        message = f"invalid character U+{exc.character:04X}: {exc.reason}"
        return src.diagnostic(where, (), message)
    if not isinstance(exc, yaml.MarkedYAMLError):
        return src.diagnostic(None, (), f"invalid YAML: {exc}")
    at = _position(exc.problem_mark or exc.context_mark)
    problem, context = exc.problem or "", exc.context or ""
    if "'\\t'" in problem:
        message = "a tab character; YAML indents and separates with spaces"
    elif problem.startswith("but ") or not problem:  # "expected one document, but found ..."
        message = ", ".join(part for part in (context, problem) if part)
    else:
        context_at = _position(exc.context_mark)
        line = f" on line {context_at.line}" if context_at and context_at != at else ""
        message = f"{problem} ({context}{line})" if context else problem
    return src.diagnostic(at, (), f"invalid YAML: {message}")


def load_model_text(text: str, source: str, model: type[M]) -> M:
    """Parse rule-file YAML from ``text`` and validate it as ``model``.

    ``source`` names the text in diagnostics (a file path, or ``"<rules>"``). Raises
    :class:`~compcalc.errors.RuleFileError` carrying every problem at once, sorted by position.

    >>> from decimal import Decimal
    >>> from pydantic import BaseModel
    >>> class Plan(BaseModel):
    ...     rate: Decimal
    >>> try:
    ...     load_model_text("rate: 12%\\n", "plan.yaml", Plan)
    ... except RuleFileError as exc:
    ...     print(exc)
    plan.yaml:1:7: rate: expected a decimal number, got "12%"
       1 | rate: 12%
         |       ^
    """
    return load_model_text_with_positions(text, source, model)[0]


def load_model_text_with_positions(text: str, source: str, model: type[M]) -> tuple[M, Positions]:
    """Like :func:`load_model_text`, also returning where each value is written.

    For checks after validation that should point into the file::

        rules, positions = load_model_text_with_positions(text, "am.yaml", RuleSet)
        problems = [positions.diagnostic(path, message) for path, message in checks(rules)]
    """
    data, positions, problems = _parse(text, source)
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        found = validation_diagnostics(exc, data, positions, model)
        # A refused ``.inf`` is kept as text and fails validation too: say it once.
        already = {(d.line, d.column, d.field) for d in problems}
        found = [d for d in found if (d.line, d.column, d.field) not in already]
        raise RuleFileError(problems + found) from exc
    if problems:
        raise RuleFileError(problems)
    return result, positions


def load_model(path: str | Path, model: type[M]) -> M:
    """Read the UTF-8 rule file at ``path`` and validate it as ``model``.

    Diagnostics name the file as ``path`` was given. Raises
    :class:`~compcalc.errors.RuleFileError` with every problem found.

    Example: ``plan_set = load_model("rules/am.yaml", RuleSet)``.
    """
    return load_model_text(read_rule_text(path), str(path), model)


def read_rule_text(path: str | Path) -> str:
    """The text of a UTF-8 file; RuleFileError (at the bad byte) if unreadable or not UTF-8.

    Example: ``load_model_text(read_rule_text("rules/am.yaml"), "rules/am.yaml", RuleSet)``.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise RuleFileError([Diagnostic(source, None, None, "", message)]) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].split(b"\n")
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02X})"
        diagnostic = Diagnostic(source, len(before), len(before[-1]) + 1, "", message)
        raise RuleFileError([diagnostic]) from exc


# --------------------------------------------------------------------------- pydantic errors


def validation_diagnostics(
    error: ValidationError,
    data: Any,
    positions: Positions,
    model: type[BaseModel] | None = None,
) -> list[Diagnostic]:
    """Turn a pydantic ValidationError on ``data`` into located, plain-words diagnostics.

    ``data`` and ``positions`` come from :func:`read_yaml_with_positions`; ``model`` (the
    validated class) lets "unknown field" list the allowed ones. Sorted by position.

    Example: ``validation_diagnostics(exc, data, positions, RuleSet)``.
    """
    found = [
        _error_diagnostic(details, data, positions, model)
        for details in error.errors(include_url=False)
    ]
    # Members of a plain union can report the same thing twice.
    return sorted(dict.fromkeys(found), key=lambda d: (d.line or 0, d.column or 0, d.field))


@dataclass(frozen=True)
class _Located:
    path: tuple[Hashable, ...]  # the user's path: only keys and indices that are in the data
    value: Any  # the data at ``path``
    on_key: bool  # the error is about the last key itself ("[key]"), not its value


def _follow_loc(loc: Sequence[str | int], data: Any) -> _Located:
    """Walk pydantic's ``loc`` through the data, keeping only real keys and indices.

    pydantic adds steps that are not in the file: the tag of a discriminated union
    (``'flat'``), the member name of a plain union (``'Tiered'``), ``'[key]'`` for dict keys,
    and, for ``missing``, the absent field's name. Those are skipped.
    """
    path: list[Hashable] = []
    value = data
    on_key = False
    for step in loc:
        if step == "[key]":
            on_key = True
            continue
        key = _child_key(value, step)
        if key is _ABSENT:
            continue
        path.append(key)
        value = value[key]
    return _Located(tuple(path), value, on_key)


def _child_key(value: Any, step: str | int) -> Any:
    if isinstance(value, dict):
        if step in value:
            return step
        # A non-text key (2024, a date) may come back from pydantic as text.
        for key in value:
            if not isinstance(key, str) and str(key) == str(step):
                return key
    elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
        return step
    return _ABSENT


def _error_diagnostic(
    details: ErrorDetails, data: Any, positions: Positions, model: type[BaseModel] | None
) -> Diagnostic:
    located = _follow_loc(details["loc"], data)
    kind = details["type"]
    src = positions._source
    if kind == "missing":
        message = f"missing required field {_show(details['loc'][-1])}"
        return src.diagnostic(positions.nearest(located.path), located.path, message)
    if kind == "extra_forbidden" and located.path:
        parent_model = None if model is None else _model_at(model, details["loc"][:-1])
        message = _unknown_field(located.path[-1], parent_model)
        at = positions.key_at(located.path) or positions.nearest(located.path)
        return src.diagnostic(at, located.path[:-1], message)
    path = located.path
    if kind == "union_tag_invalid":
        # Point at the tag's value (``kind: zzz``) rather than the whole entry.
        name = _discriminator(details)
        if isinstance(located.value, dict) and name in located.value:
            path = (*path, name)
    message = _plain_message(details)
    if not details["loc"] and data is None:
        message += " (the file is empty)"
    if located.on_key:
        at = positions.key_at(path) or positions.nearest(path)
        return src.diagnostic(at, path, f"invalid key: {message}")
    return src.diagnostic(positions.nearest(path), path, message)


def _unknown_field(name: Hashable, model: type[BaseModel] | None) -> str:
    message = f"unknown field {_show(name)}"
    if model is None:
        return message
    allowed = [info.alias or field_name for field_name, info in model.model_fields.items()]
    close = difflib.get_close_matches(str(name), allowed, n=1)
    if close:
        message += f" (did you mean {_show(close[0])}?)"
    return f"{message}; allowed fields: {', '.join(allowed)}"


# ---- plain-words messages


def _show(value: Any) -> str:
    """What was found, short: text quoted, numbers and dates as written, containers by kind."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        cut = value if len(value) <= _SHOW_LIMIT else value[: _SHOW_LIMIT - 3] + "..."
        return json.dumps(cut, ensure_ascii=False)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple | AbstractSet):
        return "a list"
    if hasattr(value, "isoformat"):  # date, datetime, time
        return str(value.isoformat())
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def _expect(what: str) -> Callable[[ErrorDetails], str]:
    return lambda details: f"expected {what}, got {_show(details['input'])}"


def _bound(words: str, key: str) -> Callable[[ErrorDetails], str]:
    return lambda d: f"expected {words} {_show(_ctx(d).get(key))}, got {_show(d['input'])}"


def _length(words: str, key: str, unit: str | None = None) -> Callable[[ErrorDetails], str]:
    def message(details: ErrorDetails) -> str:
        ctx = _ctx(details)
        limit = ctx.get(key)
        noun = unit or ("entry" if ctx.get("field_type") == "Dictionary" else "item")
        plural = "entries" if noun == "entry" else f"{noun}s"
        actual = ctx.get("actual_length")
        got = _show(details["input"]) if actual is None else str(actual)
        return f"expected {words} {limit} {noun if limit == 1 else plural}, got {got}"

    return message


def _one_of(details: ErrorDetails) -> str:
    options = _options(str(_ctx(details).get("expected", "")))
    expected = options[0] if len(options) == 1 else "one of " + ", ".join(options)
    return f"expected {expected}, got {_show(details['input'])}"


def _options(text: str) -> list[str]:
    """``"'a', 'b' or 'c'"`` (pydantic's ctx) -> ``['a', 'b', 'c']``."""
    return [part.strip().strip("'") for part in re.split(r", | or ", text) if part.strip()]


def _validator_text(prefix: str) -> Callable[[ErrorDetails], str]:
    def message(details: ErrorDetails) -> str:
        text = details["msg"].removeprefix(prefix)
        scalar = not isinstance(details["input"], Mapping | list | tuple | AbstractSet)
        return f"{text} (got {_show(details['input'])})" if scalar else text

    return message


def _tag_invalid(details: ErrorDetails) -> str:
    name = _discriminator(details) or "kind"
    tags = ", ".join(_options(str(_ctx(details).get("expected_tags", ""))))
    return f"unknown {name} {_show(_ctx(details).get('tag'))}; expected one of {tags}"


def _tag_not_found(details: ErrorDetails) -> str:
    name = _discriminator(details)
    if name is None:
        return "cannot tell which kind of entry this is"
    return f"missing required field {_show(name)}"


def _discriminator(details: ErrorDetails) -> str | None:
    """The discriminator field's name, when pydantic says it (``"'kind'"``); None if callable."""
    text = str(_ctx(details).get("discriminator", ""))
    match = re.fullmatch(r"'([^']+)'", text)
    return match.group(1) if match else None


def _ctx(details: ErrorDetails) -> dict[str, Any]:
    return dict(details.get("ctx") or {})


_DECIMAL = _expect("a decimal number")
_WHOLE = _expect("a whole number")
_DATE = _expect("a date (YYYY-MM-DD)")
_MAPPING = _expect("a mapping")
_LIST = _expect("a list")

_MESSAGES: dict[str, Callable[[ErrorDetails], str]] = {
    **dict.fromkeys(("decimal_parsing", "decimal_type", "float_parsing", "float_type"), _DECIMAL),
    **dict.fromkeys(("finite_number",), _DECIMAL),
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float", "int_parsing_size"), _WHOLE),
    **dict.fromkeys(("date_parsing", "date_type", "date_from_datetime_parsing"), _DATE),
    **dict.fromkeys(("date_from_datetime_inexact",), _DATE),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), _MAPPING),
    **dict.fromkeys(("list_type", "tuple_type", "set_type", "frozen_set_type"), _LIST),
    "string_type": _expect("text"),
    "string_pattern_mismatch": lambda d: (
        f"expected text matching {_ctx(d).get('pattern')}, got {_show(d['input'])}"
    ),
    "bool_type": _expect("true or false"),
    "bool_parsing": _expect("true or false"),
    "datetime_type": _expect("a date and time (YYYY-MM-DD HH:MM:SS)"),
    "datetime_parsing": _expect("a date and time (YYYY-MM-DD HH:MM:SS)"),
    "none_required": _expect("nothing"),
    "literal_error": _one_of,
    "enum": _one_of,
    "greater_than": _bound("more than", "gt"),
    "greater_than_equal": _bound("at least", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("at most", "le"),
    "multiple_of": _bound("a multiple of", "multiple_of"),
    "too_short": _length("at least", "min_length"),
    "too_long": _length("at most", "max_length"),
    "string_too_short": _length("at least", "min_length", "character"),
    "string_too_long": _length("at most", "max_length", "character"),
    "decimal_max_places": _length("at most", "decimal_places", "decimal place"),
    "decimal_max_digits": _length("at most", "max_digits", "digit"),
    "decimal_whole_digits": _length("at most", "whole_digits", "digit before the point"),
    "value_error": _validator_text("Value error, "),
    "assertion_error": _validator_text("Assertion failed, "),
    "union_tag_invalid": _tag_invalid,
    "union_tag_not_found": _tag_not_found,
}


def _plain_message(details: ErrorDetails) -> str:
    render = _MESSAGES.get(details["type"])
    if render is not None:
        return render(details)
    return f"{details['msg']} (got {_show(details['input'])})"


# ---- which model sits at a loc (to list allowed fields)


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the value at pydantic ``loc`` (tags included), if any."""
    current: Any = model
    for step in loc:
        current = _step_type(_unwrap(current), step)
        if current is None:
            return None
    current = _unwrap(current)
    return current if _is_model(current) else None


def _step_type(tp: Any, step: str | int) -> Any:
    if _is_model(tp):
        for name, info in tp.model_fields.items():
            if step in (name, info.alias):
                return info.annotation
        return None
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, UnionType):
        return _union_member(args, step)
    if not isinstance(origin, type) or not args or step == "[key]":
        return None
    if issubclass(origin, Mapping):
        return args[-1]
    if issubclass(origin, tuple) and isinstance(step, int):
        if args[-1] is Ellipsis:
            return args[0]
        return args[step] if 0 <= step < len(args) else None
    if issubclass(origin, Sequence | AbstractSet) and isinstance(step, int):
        return args[0]
    return None


def _union_member(members: Sequence[Any], step: str | int) -> Any:
    """The member a union's loc step names: a Tag, a Literal discriminator value or a class."""
    for member in members:
        if get_origin(member) is Annotated:
            inner, *metadata = get_args(member)
            if any(isinstance(m, Tag) and m.tag == step for m in metadata):
                return inner
            member = inner
        member = _unwrap(member)
        if _is_model(member) and (step == member.__name__ or step in _literal_values(member)):
            return member
    return None


def _literal_values(model: type[BaseModel]) -> set[Any]:
    values: set[Any] = set()
    for info in model.model_fields.values():
        if get_origin(info.annotation) is Literal:
            values.update(get_args(info.annotation))
    return values


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional``; pydantic adds no loc step for either."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)
