"""Bounding the regular expressions users give to pick files (splits, a ts plugin's ``filter``).

A worker matches each filter against every key of a parent's output with Python's ``re``, a
backtracking engine that can't be interrupted from another thread. A pattern such as
``(a+)+$`` takes exponential time, and ``.*.*.*x`` cubic time, so one request could tie up a
worker for hours. Filters are therefore checked when they are posted, by a rule that is sound
and cheap instead of by a timeout:

* backreferences and conditionals are refused (no bound is known for them);
* a repeat may only apply to something that matches in one way (a character, a class, a
  fixed sequence): ``(a+)+``, ``(a|ab)*`` and ``(x?y)*`` are refused;
* without those, a backtracking engine tries at most one path per combination of repeat
  counts, so the paths of one match attempt are bounded by the product of each repeat's
  possible counts (a key's length for an open-ended one) and of each alternation's branch
  count, times the start positions (one when the pattern begins with ``^`` or ``\\A``).
  That bound, for the longest key, must stay within ``MAX_PATHS``: at most one open-ended
  repeat, or two when the pattern is anchored.

The check parses with ``re``'s own parser (``re._parser``, the module ``re.compile`` uses), so
it sees exactly what the worker will run.
"""

import re
from re import _constants as sre
from re import _parser as sre_parse

MAX_PATTERN_LENGTH = 200
# The longest string a filter is matched against: a file's key (PluginInstanceFile.fname).
MAX_SUBJECT_LENGTH = 1024
# About four million paths per key: a quadratic bound for the longest key.
MAX_PATHS = 4 * (MAX_SUBJECT_LENGTH + 1) ** 2

_SINGLE_PATH = {
    sre.LITERAL,
    sre.NOT_LITERAL,
    sre.ANY,
    sre.IN,
    sre.AT,
    sre.CATEGORY,
}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
_ANCHORS = {sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}


class UnsafeRegex(ValueError):
    """A filter that does not compile, or that could take too long to match."""


def check_filter_list(value: str) -> list[str]:
    """The trimmed regexes of a comma-separated filter list; raise UnsafeRegex for a bad one."""
    items = [item.strip() for item in value.split(",")]
    for item in items:
        if item:
            check_regex(item)
    return items


def check_regex(pattern: str) -> None:
    """Raise UnsafeRegex unless ``pattern`` compiles and is bounded as the module describes."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafeRegex(f"Filter is longer than {MAX_PATTERN_LENGTH} characters.")
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as error:
        raise UnsafeRegex(
            f"Filter '{pattern}' is not a valid regular expression: {error}."
        ) from None
    starts = 1 if _is_anchored(parsed) else MAX_SUBJECT_LENGTH + 1
    if starts * _paths(parsed, pattern) > MAX_PATHS:
        raise UnsafeRegex(
            f"Filter '{pattern}' could take too long to match: use fewer open-ended repeats "
            "(*, +, {n,}), or anchor it with ^."
        )


def _is_anchored(parsed: sre_parse.SubPattern) -> bool:
    if not parsed.data:
        return False
    op, argument = parsed.data[0]
    if op != sre.AT or argument not in _ANCHORS:
        return False
    return argument == sre.AT_BEGINNING_STRING or not parsed.state.flags & re.MULTILINE


def _paths(items, pattern: str) -> int:
    """An upper bound on the paths one match attempt of ``items`` can take (capped)."""
    total = 1
    for op, argument in items:
        total = min(total * _item_paths(op, argument, pattern), MAX_PATHS + 1)
    return total


def _item_paths(op, argument, pattern: str) -> int:
    if op in _SINGLE_PATH:
        return 1
    if op == sre.SUBPATTERN:
        return _paths(argument[3], pattern)
    if op == sre.ATOMIC_GROUP:
        return _paths(argument, pattern)
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return _paths(argument[1], pattern)
    if op == sre.BRANCH:
        return min(sum(_paths(branch, pattern) for branch in argument[1]), MAX_PATHS + 1)
    if op in _REPEATS:
        low, high, body = argument
        if _paths(body, pattern) > 1:
            raise UnsafeRegex(
                f"Filter '{pattern}' repeats a part that can match in several ways, "
                "as in (a+)+ or (a|ab)*: it could take too long to match."
            )
        return min(high, MAX_SUBJECT_LENGTH) - min(low, MAX_SUBJECT_LENGTH) + 1
    if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
        raise UnsafeRegex(f"Filter '{pattern}' may not use backreferences.")
    raise UnsafeRegex(f"Filter '{pattern}' uses a construct that is not supported here.")
