"""How changing a column's type affects its data: same, widening (with or without rewrite), narrowing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TypeChange(StrEnum):
    """The effect of `ALTER COLUMN ... TYPE new` on a column of type old."""

    same = "same"
    widening = "widening"            # every old value fits, no table rewrite (varchar(10) -> varchar(20), -> text)
    widening_rewrite = "widening_rewrite"  # every old value fits, but the table is rewritten (int -> bigint)
    narrowing = "narrowing"          # some old values do not fit: they fail, are truncated or rounded
    conversion = "conversion"        # a different type: rewritten, and values may not convert back


@dataclass(frozen=True)
class _Type:
    base: str
    mods: tuple[int, ...]
    array: int


_ALIASES = {
    "int": "integer", "int4": "integer", "int2": "smallint", "int8": "bigint",
    "varchar": "character varying", "char": "character", "bpchar": "character",
    "float8": "double precision", "float4": "real", "float": "double precision",
    "decimal": "numeric", "bool": "boolean", "timestamptz": "timestamp with time zone",
    "timetz": "time with time zone", "varbit": "bit varying",
}
_INT_RANK = {"smallint": 2, "integer": 4, "bigint": 8}
_FLOAT_RANK = {"real": 4, "double precision": 8}
_LENGTH_TYPES = ("character varying", "character", "bit varying", "bit")
_UNBOUNDED_TEXT = ("text", "character varying")
_PRECISION_TYPES = ("timestamp without time zone", "timestamp with time zone", "time without time zone",
                    "time with time zone", "interval")
_MODS = re.compile(r"\(([\d,\s]+)\)")


def _parse(type_text: str) -> _Type:
    text = " ".join(type_text.strip().lower().split())
    array = 0
    while text.endswith("[]"):
        array += 1
        text = text[:-2].rstrip()
    mods: tuple[int, ...] = ()
    found = _MODS.search(text)
    if found:
        mods = tuple(int(part) for part in found.group(1).split(",") if part.strip())
        text = (text[:found.start()] + text[found.end():]).strip()
        text = " ".join(text.split())
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    text = text.rsplit(".", 1)[-1] if "." in text and not text.startswith("pg_catalog.") else text
    text = text.removeprefix("pg_catalog.")
    if text in ("timestamp", "time"):
        text += " without time zone"
    return _Type(_ALIASES.get(text, text), mods, array)


def classify(old: str, new: str) -> TypeChange:
    """Classify a column type change given two `format_type` strings."""
    a, b = _parse(old), _parse(new)
    if a == b:
        return TypeChange.same
    if a.array != b.array:
        return TypeChange.conversion
    if a.base == b.base:
        return _same_base(a, b)
    if a.base in _UNBOUNDED_TEXT and b.base in _UNBOUNDED_TEXT:
        # varchar(n) -> text: binary compatible; text -> varchar(n): may fail
        if b.base == "text" or not b.mods:
            return TypeChange.widening
        return TypeChange.narrowing
    if a.base == "character" and b.base in _UNBOUNDED_TEXT:
        return TypeChange.widening_rewrite if not b.mods or b.mods[0] >= (a.mods or (1,))[0] else TypeChange.narrowing
    if a.base in _INT_RANK and b.base in _INT_RANK:
        return TypeChange.widening_rewrite if _INT_RANK[b.base] > _INT_RANK[a.base] else TypeChange.narrowing
    if a.base in _FLOAT_RANK and b.base in _FLOAT_RANK:
        return TypeChange.widening_rewrite if _FLOAT_RANK[b.base] > _FLOAT_RANK[a.base] else TypeChange.narrowing
    if a.base in _INT_RANK and b.base == "numeric":
        if not b.mods:
            return TypeChange.widening_rewrite
        digits = b.mods[0] - (b.mods[1] if len(b.mods) > 1 else 0)
        return TypeChange.widening_rewrite if digits >= {2: 5, 4: 10, 8: 19}[_INT_RANK[a.base]] else (
            TypeChange.narrowing)
    if a.base == "numeric" and (b.base in _INT_RANK or b.base in _FLOAT_RANK):
        return TypeChange.narrowing
    if a.base in _INT_RANK and b.base in _FLOAT_RANK:
        return TypeChange.widening_rewrite if _INT_RANK[a.base] <= 4 and b.base == "double precision" else (
            TypeChange.narrowing)
    if a.base in _FLOAT_RANK and b.base in _INT_RANK:
        return TypeChange.narrowing
    if b.base == "text" and a.base not in ("bytea",):
        return TypeChange.widening_rewrite
    if {a.base, b.base} == {"timestamp without time zone", "timestamp with time zone"}:
        return TypeChange.widening_rewrite
    return TypeChange.conversion


def _same_base(a: _Type, b: _Type) -> TypeChange:
    if a.base in _LENGTH_TYPES:
        if not b.mods:
            return TypeChange.widening if a.base in ("character varying", "bit varying") else TypeChange.conversion
        if not a.mods:
            return TypeChange.narrowing
        if b.mods[0] >= a.mods[0]:
            return TypeChange.widening if a.base in ("character varying", "bit varying") else (
                TypeChange.widening_rewrite)
        return TypeChange.narrowing
    if a.base == "numeric":
        if not b.mods:
            return TypeChange.widening
        if not a.mods:
            return TypeChange.narrowing
        a_scale = a.mods[1] if len(a.mods) > 1 else 0
        b_scale = b.mods[1] if len(b.mods) > 1 else 0
        if b_scale < a_scale or b.mods[0] - b_scale < a.mods[0] - a_scale:
            return TypeChange.narrowing
        return TypeChange.widening if b_scale == a_scale else TypeChange.widening_rewrite
    if a.base in _PRECISION_TYPES:
        a_p = a.mods[0] if a.mods else 6
        b_p = b.mods[0] if b.mods else 6
        if b_p >= a_p:
            return TypeChange.widening
        return TypeChange.narrowing
    return TypeChange.conversion
