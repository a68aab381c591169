"""Topic rules: tag lines with the topics of a taxonomy, and roll line topics up to a page.

The taxonomy lives in configuration (``conf/topics/default.yaml``, composed as ``cfg.topics``):
each topic has a definition and three kinds of rules, any of which may be empty:

* ``keywords``: case-insensitive whole-word terms or phrases. "Whole word" means no letter, digit
  or underscore (``\\w``) right before or after the term; there is no automatic plural, so list
  every form. A space inside a phrase matches any run of white space.
* ``cased``: the same, but case-sensitive (``US``, ``EU``, ``IDF``).
* ``patterns``: Python regular expressions, matched case-insensitively anywhere in the line.
  ``{{name}}`` in a pattern stands for the group's ``alternations.name`` list, its items joined
  as ``(?:item|item|...)``: one list of states, say, shared by several patterns.

A line gets every topic one of whose rules matches it. No topic name appears in this module:
adding, removing or editing a topic in the YAML needs no code change.

Speed (about 100,000 lines/s on one core): a line is case-folded and split into word tokens
once. A one-word keyword then matches by a dictionary look-up; every other rule is filed under a
word that each of its matches must contain as a whole word (the rarest-looking word of a phrase;
for a pattern, a word found by :func:`pattern_triggers` from its parse tree), so its regex runs
only on lines holding that word. A pattern for which no such word can be proven runs on every
line. The result is exactly that of matching every rule as its own regex; ``tests/test_topics.py``
checks this on random lines.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from textclf.errors import ConfigError, InputError

__all__ = [
    "PageRule",
    "TopicDef",
    "TopicRules",
    "TopicsConfig",
    "fold",
    "load_topics_config",
    "page_topics",
    "pattern_triggers",
    "topics_config",
]

TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_WORD = re.compile(r"\w+")


@dataclass
class TopicDef:
    """One topic of the taxonomy: what it means and the rules that detect it in a line."""

    definition: str = ""
    keywords: list[str] = field(default_factory=list)
    cased: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)


@dataclass
class PageRule:
    """A page gets a topic when >= ``min_lines`` and >= ``min_share`` of its content lines do."""

    min_lines: int = 2
    min_share: float = 0.15


@dataclass
class TopicsConfig:
    """The ``topics`` config group: the taxonomy (in order), the page roll-up rule, and named
    lists of regular-expression alternatives that patterns use as ``{{name}}``.

    Once checked (:func:`topics_config`), the taxonomy's patterns have their ``{{name}}``
    references replaced, so what a model stores needs no ``alternations``.
    """

    taxonomy: dict[str, TopicDef] = field(default_factory=dict)
    page_rule: PageRule = field(default_factory=PageRule)
    alternations: dict[str, list[str]] = field(default_factory=dict)


# --- reading configuration ----------------------------------------------------------------

_TOPIC_KEYS = tuple(f.name for f in fields(TopicDef))
_RULE_KEYS = ("keywords", "cased", "patterns")


def _plain(obj: Any) -> Any:
    """An OmegaConf node as plain Python containers; anything else unchanged."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        return obj
    if isinstance(obj, DictConfig | ListConfig):
        return OmegaConf.to_container(obj, resolve=True)
    return obj


def _str_list(where: str, value: Any, *, verbatim: bool) -> list[str]:
    """``value`` as a list of non-empty strings (``where`` names it in errors); terms have their
    white space normalised, regular expressions (``verbatim``) are kept as written."""
    value = _plain(value)
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigError(
            f"{where} must be a list of strings, got {type(value).__name__} {value!r}"
        )
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where} has an empty or non-string entry {item!r}")
        out.append(item if verbatim else " ".join(item.split()))
    return out


def _topic_def(name: Any, value: Any) -> TopicDef:
    if not isinstance(name, str) or not TOPIC_NAME.match(name):
        raise ConfigError(
            f"topic name {name!r} is not valid: use lower-case letters, digits and '_', "
            "starting with a letter (e.g. 'foreign_affairs')"
        )
    value = _plain(value)
    if isinstance(value, TopicDef):
        value = {f: getattr(value, f) for f in _TOPIC_KEYS}
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"topic {name!r}: expected a mapping with {', '.join(_TOPIC_KEYS)}, "
            f"got {type(value).__name__}"
        )
    unknown = sorted(set(value) - set(_TOPIC_KEYS))
    if unknown:
        raise ConfigError(
            f"topic {name!r}: unknown key(s) {', '.join(map(str, unknown))}; "
            f"expected {', '.join(_TOPIC_KEYS)}"
        )
    definition = value.get("definition") or ""
    if not isinstance(definition, str):
        raise ConfigError(f"topic {name!r}: definition must be a string")
    topic = TopicDef(
        definition=" ".join(definition.split()),
        **{
            key: _str_list(f"topic {name!r}: {key}", value.get(key), verbatim=key == "patterns")
            for key in _RULE_KEYS
        },
    )
    if not (topic.keywords or topic.cased or topic.patterns):
        raise ConfigError(f"topic {name!r} has no rules: give it keywords, cased or patterns")
    return topic


_REFERENCE = re.compile(r"\{\{([^{}]*)\}\}")


def _alternations(value: Any) -> dict[str, list[str]]:
    """The ``alternations`` lists, checked, with the ``{{name}}`` references in their items
    filled in (a list may build on others: ``states: ['{{us_names}}', 'china', ...]``)."""
    value = _plain(value)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"alternations must be a mapping of name -> list, got {value!r}")
    raw: dict[str, list[str]] = {}
    for name, items in value.items():
        if not isinstance(name, str) or not TOPIC_NAME.match(name):
            raise ConfigError(
                f"alternations: name {name!r} is not valid: use lower-case letters, digits and "
                "'_', starting with a letter"
            )
        raw[name] = _str_list(f"alternations.{name}", items, verbatim=True)
        if not raw[name]:
            raise ConfigError(f"alternations.{name} is empty")
    out: dict[str, list[str]] = {}

    def resolve(name: str, path: tuple[str, ...]) -> list[str]:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise ConfigError(f"alternations.{name} refers to itself: {cycle}")
        if name not in out:
            refs = {m.group(1).strip() for item in raw[name] for m in _REFERENCE.finditer(item)}
            lists = {ref: resolve(ref, (*path, name)) for ref in refs if ref in raw}
            where = f"alternations.{name}: an item"
            out[name] = [_fill(item, lists, where, known=raw) for item in raw[name]]
            try:
                re.compile("|".join(out[name]), re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(f"alternations.{name}: the items do not compile: {exc}") from exc
        return out[name]

    for name in raw:
        resolve(name, ())
    return out


def _fill(
    text: str, lists: Mapping[str, list[str]], where: str, known: Iterable[str] | None = None
) -> str:
    """``text`` with each ``{{name}}`` replaced by ``(?:item|item|...)`` of ``lists[name]``;
    ``where`` names the text in the error for a name that is not a list (``known``: the names
    there are, default those of ``lists``)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in lists:
            names = ", ".join(sorted(lists if known is None else known)) or "none"
            raise ConfigError(
                f"{where} uses {{{{{name}}}}}, which is not a list under `alternations` "
                f"(known: {names})"
            )
        return "(?:" + "|".join(lists[name]) + ")"

    return _REFERENCE.sub(replace, text)


def _page_rule(value: Any) -> PageRule:
    value = _plain(value)
    if value is None:
        value = PageRule()
    if isinstance(value, PageRule):
        value = {"min_lines": value.min_lines, "min_share": value.min_share}
    if not isinstance(value, Mapping):
        raise ConfigError(f"page_rule must be a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - {"min_lines", "min_share"})
    if unknown:
        raise ConfigError(
            f"page_rule: unknown key(s) {', '.join(map(str, unknown))}; "
            "expected min_lines, min_share"
        )
    min_lines = value.get("min_lines", PageRule.min_lines)
    min_share = value.get("min_share", PageRule.min_share)
    if isinstance(min_lines, bool) or not isinstance(min_lines, int) or min_lines < 0:
        raise ConfigError(f"page_rule.min_lines must be an integer >= 0, got {min_lines!r}")
    if (
        isinstance(min_share, bool)
        or not isinstance(min_share, int | float)
        or not 0.0 <= min_share <= 1.0
    ):
        raise ConfigError(f"page_rule.min_share must be a number in [0, 1], got {min_share!r}")
    return PageRule(min_lines=min_lines, min_share=float(min_share))


def topics_config(cfg: Any) -> TopicsConfig:
    """Check and normalise a topics configuration.

    ``cfg`` is a :class:`TopicsConfig`, an OmegaConf node or a plain mapping, either the whole
    group (``{taxonomy: ..., page_rule: ..., alternations: ...}``) or just the taxonomy
    mapping. Raises :class:`ConfigError` naming the topic at fault.
    """
    alternations_raw: Any = None
    if isinstance(cfg, TopicsConfig):
        taxonomy_raw: Any = cfg.taxonomy
        rule_raw: Any = cfg.page_rule
        alternations_raw = cfg.alternations
    else:
        cfg = _plain(cfg)
        if not isinstance(cfg, Mapping):
            raise ConfigError(f"topics config must be a mapping, got {type(cfg).__name__}")
        if "taxonomy" in cfg:
            unknown = sorted(set(cfg) - {"taxonomy", "page_rule", "alternations"})
            if unknown:
                raise ConfigError(
                    f"topics config: unknown key(s) {', '.join(map(str, unknown))}; "
                    "expected taxonomy, page_rule, alternations"
                )
            taxonomy_raw, rule_raw = cfg["taxonomy"], cfg.get("page_rule")
            alternations_raw = cfg.get("alternations")
        else:
            taxonomy_raw, rule_raw = cfg, None
    taxonomy_raw = _plain(taxonomy_raw)
    if not isinstance(taxonomy_raw, Mapping) or not taxonomy_raw:
        raise ConfigError("topics config: taxonomy must be a non-empty mapping of topic -> rules")
    alternations = _alternations(alternations_raw)
    taxonomy = {name: _topic_def(name, value) for name, value in taxonomy_raw.items()}
    for name, topic in taxonomy.items():
        topic.patterns = [
            _fill(p, alternations, f"topic {name!r}: pattern {p!r}") for p in topic.patterns
        ]
    return TopicsConfig(
        taxonomy=taxonomy, page_rule=_page_rule(rule_raw), alternations=alternations
    )


def load_topics_config(path: Path | str) -> TopicsConfig:
    """Read and check a topics YAML file such as ``conf/topics/default.yaml``."""
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"topics config {path} does not exist")
    try:
        raw = OmegaConf.load(path)
    except Exception as exc:  # YAML syntax errors come in several types
        raise ConfigError(f"{path}: cannot parse the YAML: {exc}") from exc
    try:
        return topics_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# --- matching -----------------------------------------------------------------------------

# re.IGNORECASE treats these lower-case letters as equal; map each to one representative so
# that token look-ups agree with the regexes (Python's re/_casefix.py lists the classes; the
# combining U+0345, which is not a word character, is left out so that folding never moves
# word boundaries).
_EQUIVALENT = (  # the first letter of each group stands for the others
    "\u0069\u0131",
    "\u0073\u017f",
    "\u00b5\u03bc",
    "\u03b9\u1fbe",
    "\u0390\u1fd3",
    "\u03b0\u1fe3",
    "\u03b2\u03d0",
    "\u03b5\u03f5",
    "\u03b8\u03d1",
    "\u03ba\u03f0",
    "\u03c0\u03d6",
    "\u03c1\u03f1",
    "\u03c3\u03c2",
    "\u03c6\u03d5",
    "\u0432\u1c80",
    "\u0434\u1c81",
    "\u043e\u1c82",
    "\u0441\u1c83",
    "\u0442\u1c84\u1c85",
    "\u044a\u1c86",
    "\u0463\u1c87",
    "\ua64b\u1c88",
    "\u1e61\u1e9b",
    "\ufb06\ufb05",
)
_FOLD_AFTER = str.maketrans({c: group[0] for group in _EQUIVALENT for c in group[1:]})
_FOLD_BEFORE = str.maketrans({"\u0130": "i"})  # İ: str.lower() gives 'i̇', re gives 'i'


def fold(text: str) -> str:
    """Lower-case ``text`` the way ``re.IGNORECASE`` compares letters (same length)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_BEFORE).lower().translate(_FOLD_AFTER)


def _term_regex(term: str) -> str:
    return r"\s+".join(re.escape(part) for part in term.split())


def _terms_regex(terms: Iterable[str]) -> str:
    body = "|".join(_term_regex(t) for t in sorted(set(terms), key=lambda t: (-len(t), t)))
    return rf"(?<!\w)(?:{body})(?!\w)"


# Words too common to be a good trigger when a term has a rarer one.
# fmt: off
_COMMON = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "de", "for", "from", "has", "in", "is", "it",
    "its", "la", "le", "new", "no", "not", "of", "on", "or", "our", "s", "the", "to", "was", "we",
    "with", "you", "your",
})
# fmt: on


def _cost(word: str) -> int:
    """Rough cost of a trigger word: common or very short words match most lines."""
    return 50 if word in _COMMON or len(word) < 3 else 1


def _best_token(tokens: Iterable[str]) -> str:
    return min(tokens, key=lambda w: (_cost(w), -len(w), w))


# --- which words a pattern cannot match without ------------------------------------------
#
# A pattern runs only on lines that contain one of its trigger words, when we can prove from
# its parse tree that every match contains one of them as a whole word. When in doubt (a
# construct we do not analyse), the pattern has no triggers and runs on every line.

_MAX_STRINGS = 256  # largest set of literal strings we expand a piece of pattern into
_MAX_ALTERNATIVES = 64  # most alternatives we split a pattern into to analyse each alone


@dataclass(frozen=True)
class _Item:
    """One element of a pattern, as far as whole words are concerned.

    kind "B": a zero-width word boundary (\\b, ^, $, (?<!\\w), (?!\\w));
    kind "S": consumes one of ``strings`` (" " stands for any non-word run);
    kind "A": an alternation, one item list per alternative;
    kind "O": anything else (opaque).
    """

    kind: str
    strings: frozenset[str] = frozenset()
    alternatives: tuple[tuple[_Item, ...], ...] = ()


_B = _Item("B")
_O = _Item("O")


def _product(a: frozenset[str], b: frozenset[str]) -> frozenset[str] | None:
    if len(a) * len(b) > _MAX_STRINGS:
        return None
    return frozenset(x + y for x in a for y in b)


def _expand(items: Iterable[_Item]) -> frozenset[str] | None:
    """Every string a sequence can consume, when that is a small finite set."""
    out: frozenset[str] | None = frozenset({""})
    for item in items:
        if item.kind == "B":
            continue  # zero-width: dropping it only loses information
        if item.kind == "S":
            strings: frozenset[str] | None = item.strings
        elif item.kind == "A":
            strings = frozenset()
            for alternative in item.alternatives:
                part = _expand(alternative)
                if part is None:
                    return None
                strings |= part
        else:
            return None
        if strings is None or out is None:
            return None
        out = _product(out, strings)
    return out


def _strings_item(strings: frozenset[str] | None) -> _Item:
    return _Item("S", strings) if strings and len(strings) <= _MAX_STRINGS else _O


def _convert(nodes: Any, c: Any) -> list[_Item]:
    """Translate a parsed pattern (``re._parser``) into items."""
    items: list[_Item] = []
    for op, av in nodes:
        if op is c.LITERAL:
            items.append(_Item("S", frozenset({chr(av)})))
        elif op is c.AT:
            items.append(_O if av is c.AT_NON_BOUNDARY else _B)
        elif op is c.IN:
            chars: set[str] = set()
            for in_op, in_av in av:
                if in_op is c.LITERAL:
                    chars.add(chr(in_av))
                elif in_op is c.RANGE and in_av[1] - in_av[0] < 64:
                    chars.update(chr(x) for x in range(in_av[0], in_av[1] + 1))
                elif in_op is c.CATEGORY and in_av is c.CATEGORY_SPACE:
                    chars.add(" ")  # any white space: all that matters is "not a word char"
                else:
                    chars.clear()
                    break
            items.append(_strings_item(frozenset(chars)))
        elif op is c.BRANCH:
            alts = tuple(tuple(_convert(branch, c)) for branch in av[1])
            items.append(_Item("A", alternatives=alts))
        elif op is c.SUBPATTERN:
            if av[1] & (re.ASCII | re.LOCALE):
                raise _Unanalysable  # \b would no longer agree with our \w tokens
            items.extend(_convert(av[3], c))  # a group without a repeat is just a sequence
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = av
            strings = _expand(_convert(sub, c))
            if not strings:
                items.append(_O)
            elif high <= 1:
                items.append(_strings_item(strings | {""} if low == 0 else strings))
            elif all(s and not _WORD.search(s) for s in strings):
                # a run of non-word characters: for words, only "is there one" matters
                items.append(_Item("S", frozenset({" "} if low >= 1 else {"", " "})))
            elif low == high and low <= 3:
                total: frozenset[str] | None = frozenset({""})
                for _ in range(low):
                    total = _product(total, strings) if total is not None else None
                items.append(_strings_item(total))
            else:
                items.append(_O)
        elif (
            op is c.ASSERT_NOT
            and len(av[1]) == 1
            and av[1][0] == (c.IN, [(c.CATEGORY, c.CATEGORY_WORD)])
        ):
            items.append(_B)  # (?<!\w) or (?!\w)
        else:
            items.append(_O)
    return items


def _distribute(items: list[_Item]) -> list[list[_Item]]:
    """Split alternations into separate sequences (up to a budget); the rest become strings."""
    sequences: list[list[_Item]] = [[]]
    for item in items:
        if item.kind != "A":
            for seq in sequences:
                seq.append(item)
            continue
        alternatives = [alt for a in item.alternatives for alt in _distribute(list(a))]
        if len(sequences) * len(alternatives) <= _MAX_ALTERNATIVES:
            sequences = [seq + alt for seq in sequences for alt in alternatives]
        else:
            folded = _strings_item(_expand([item]))
            for seq in sequences:
                seq.append(folded)
    return sequences


def _segment_candidates(
    strings: frozenset[str], left_bound: bool, right_bound: bool
) -> list[frozenset[str]]:
    """Sets of words such that every string holds one of the set as a whole word."""
    per_string: list[set[str]] = []
    for s in strings:
        folded = fold(s)
        whole = {
            m.group(0)
            for m in _WORD.finditer(folded)
            if (m.start() > 0 or left_bound) and (m.end() < len(folded) or right_bound)
        }
        if not whole:
            return []
        per_string.append(whole)
    candidates = [frozenset({w}) for w in set.intersection(*per_string)]
    candidates.append(frozenset(_best_token(whole) for whole in per_string))
    return candidates


def _sequence_candidates(items: list[_Item]) -> list[frozenset[str]]:
    candidates: list[frozenset[str]] = []
    i, n = 0, len(items)
    while i < n:
        if items[i].kind != "S":
            i += 1
            continue
        left_bound = i > 0 and items[i - 1].kind == "B"
        strings = items[i].strings
        i += 1
        while i < n and items[i].kind == "S":
            joined = _product(strings, items[i].strings)
            if joined is None:
                break  # too many strings: end the segment here (not bounded on the right)
            strings = joined
            i += 1
        right_bound = i < n and items[i].kind == "B"
        candidates.extend(_segment_candidates(strings, left_bound, right_bound))
    return candidates


def _choose(per_sequence: list[list[frozenset[str]]]) -> frozenset[str] | None:
    """One candidate per sequence, cheap words first and shared words reused."""
    if not per_sequence or any(not c for c in per_sequence):
        return None
    seen = Counter(w for cands in per_sequence for w in frozenset().union(*cands))
    chosen: set[str] = set()
    for cands in per_sequence:
        if any(c <= chosen for c in cands):
            continue
        best = min(
            cands,
            key=lambda c: (sum(_cost(w) for w in c - chosen), -sum(seen[w] for w in c), sorted(c)),
        )
        chosen |= best
    return frozenset(chosen)


class _Unanalysable(Exception):
    pass


def pattern_triggers(pattern: str, flags: int = re.IGNORECASE) -> frozenset[str] | None:
    """Folded words of which every match of ``pattern`` contains one as a whole word.

    ``None`` when no such set was found; the pattern must then be tried on every line.
    """
    try:
        # The regular expression parser of CPython 3.11+ (private, so not in the type stubs).
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]

        tree = parser.parse(pattern, flags)
        if tree.state.flags & (re.ASCII | re.LOCALE):
            return None
        sequences = _distribute(_convert(list(tree), c))
        return _choose([_sequence_candidates(seq) for seq in sequences])
    except Exception:  # private parser API or a construct we did not foresee: no shortcut
        return None


@dataclass(frozen=True)
class _Topic:
    name: str
    direct: frozenset[str]  # one-word keywords, folded: a token hit is a match
    # word -> [(other words also needed, regex)]: the rules to try when a line has the word
    gated: dict[str, list[tuple[frozenset[str], re.Pattern[str]]]]
    always: re.Pattern[str] | None  # rules without a trigger word: run on every line
    explain: re.Pattern[str]  # every rule of the topic, for explain()


def _compile(pattern: str, topic: str, what: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ConfigError(f"topic {topic!r}: {what} does not compile: {exc}") from exc


_COMBINED = "the combined rules (a numbered backreference or a repeated group name?)"


def _compile_topic(name: str, topic: TopicDef) -> _Topic:
    for pattern in topic.patterns:
        _compile(pattern, name, f"pattern {pattern!r}", re.IGNORECASE)
        _compile(f"(?i:{pattern})", name, f"pattern {pattern!r} (no global flags like (?x))")
    direct: set[str] = set()
    # (trigger word, other words needed) -> regex sources of the rules that need them
    by_word: dict[tuple[str, frozenset[str]], list[str]] = {}
    always: list[str] = []  # terms of punctuation only, and patterns we could not analyse

    def add_term(source: str, term: str) -> None:
        words = _WORD.findall(fold(term))
        if not words:
            always.append(source)
            return
        trigger = _best_token(words)  # every word of a term is a whole word of the line
        by_word.setdefault((trigger, frozenset(words) - {trigger}), []).append(source)

    for keyword in topic.keywords:
        folded = fold(keyword)
        if _WORD.fullmatch(folded):
            direct.add(folded)
        else:
            add_term(f"(?i:{_terms_regex([keyword])})", keyword)
    for term in topic.cased:
        add_term(_terms_regex([term]), term)
    for pattern in topic.patterns:
        triggers = pattern_triggers(pattern)
        for word in triggers or ():
            by_word.setdefault((word, frozenset()), []).append(f"(?i:{pattern})")
        if not triggers:
            always.append(f"(?i:{pattern})")

    gated: dict[str, list[tuple[frozenset[str], re.Pattern[str]]]] = {}
    for (word, needed), sources in by_word.items():
        if word not in direct:  # else the word alone already gives the topic
            regex = _compile("|".join(sources), name, _COMBINED)
            gated.setdefault(word, []).append((needed, regex))

    every = []
    if topic.keywords:
        every.append(f"(?i:{_terms_regex(topic.keywords)})")
    if topic.cased:
        every.append(_terms_regex(topic.cased))
    every.extend(f"(?i:{p})" for p in topic.patterns)
    return _Topic(
        name=name,
        direct=frozenset(direct),
        gated=gated,
        always=_compile("|".join(always), name, _COMBINED) if always else None,
        explain=_compile("|".join(every), name, _COMBINED),
    )


class TopicRules:
    """Rule-based topic tagger compiled once from a taxonomy.

    >>> rules = TopicRules.from_config({"space": {"keywords": ["rocket launch", "NASA"]}})
    >>> rules.label_line("Nasa delays the rocket   launch")
    ['space']
    """

    def __init__(self, taxonomy: Mapping[str, TopicDef | Mapping[str, Any]]) -> None:
        config = topics_config(taxonomy)
        self.taxonomy: dict[str, TopicDef] = config.taxonomy
        self._topics = tuple(_compile_topic(n, t) for n, t in config.taxonomy.items())
        # word -> what it means for each topic: (topic index, _, None) "the topic matches",
        # (topic index, needed, regex) "the topic matches if the line also has the words
        # `needed` and the regex matches".
        index: dict[str, list[tuple[int, frozenset[str], re.Pattern[str] | None]]] = {}
        for i, topic in enumerate(self._topics):
            for word in topic.direct:
                index.setdefault(word, []).append((i, frozenset(), None))
            for word, entries in topic.gated.items():
                for needed, regex in entries:
                    index.setdefault(word, []).append((i, needed, regex))
        self._index = {word: tuple(entries) for word, entries in index.items()}
        self._always = tuple((i, t.always) for i, t in enumerate(self._topics) if t.always)

    @classmethod
    def from_config(cls, cfg: Any) -> TopicRules:
        """Build from a :class:`TopicsConfig`, an OmegaConf node or a mapping (see
        :func:`topics_config`)."""
        return cls(topics_config(cfg).taxonomy)

    @property
    def names(self) -> list[str]:
        """Topic names, in config order."""
        return [t.name for t in self._topics]

    def label_line(self, text: str) -> list[str]:
        """The topics whose rules match ``text``, in config order."""
        return self.label_lines((text,))[0]

    def label_lines(self, texts: Iterable[str]) -> list[list[str]]:
        """The topics of each line, in config order (one list per line)."""
        if isinstance(texts, str):
            raise InputError("label_lines expects a list of lines, got a single str")
        names = self.names
        index_get = self._index.get
        always = self._always
        words = _WORD.findall
        out: list[list[str]] = []
        append = out.append
        for text in texts:
            if not isinstance(text, str):
                raise InputError(f"expected str lines, got {type(text).__name__}")
            found: set[int] = set()
            tokens = set(words(text.lower() if text.isascii() else fold(text)))
            for word in tokens:
                entries = index_get(word)
                if entries:
                    for i, needed, regex in entries:
                        if i not in found and (
                            regex is None or (needed <= tokens and regex.search(text))
                        ):
                            found.add(i)
            for i, regex in always:
                if i not in found and regex.search(text):
                    found.add(i)
            append([names[i] for i in sorted(found)] if found else [])
        return out

    def explain(self, text: str) -> dict[str, list[str]]:
        """For each topic that matches ``text``, the pieces of text its rules matched.

        The pieces are the leftmost, non-overlapping matches of all the topic's rules at once:
        meant for people checking a rule, not for counting.
        """
        found: dict[str, list[str]] = {}
        for t in self._topics:
            hits = [m.group(0) for m in t.explain.finditer(text)]
            if hits:
                found[t.name] = hits
        return found


def page_topics(
    line_topics: Sequence[Sequence[str]],
    is_content: Sequence[bool],
    rule: PageRule | Mapping[str, Any],
) -> list[str]:
    """Roll line topics up to the page.

    A page gets a topic when at least ``rule.min_lines`` of its content lines carry it AND
    those lines are at least ``rule.min_share`` of its content lines. Boilerplate lines do not
    count; a page without content lines gets no topic. Topics come in the order in which they
    first appear on a content line.
    """
    rule = _page_rule(rule)
    if len(line_topics) != len(is_content):
        raise InputError(
            f"page_topics: {len(line_topics)} lines of topics but {len(is_content)} labels"
        )
    counts: dict[str, int] = {}
    n_content = 0
    for topics, content in zip(line_topics, is_content, strict=True):
        if not content:
            continue
        n_content += 1
        for topic in set(topics):
            counts[topic] = counts.get(topic, 0) + 1
    if n_content == 0:
        return []
    order: dict[str, int] = {}
    for topics, content in zip(line_topics, is_content, strict=True):
        if content:
            for topic in topics:
                order.setdefault(topic, len(order))
    return [
        topic
        for topic in sorted(counts, key=order.__getitem__)
        if counts[topic] >= rule.min_lines and counts[topic] / n_content >= rule.min_share
    ]
