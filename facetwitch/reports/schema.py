"""report.json's JSON Schema (``report.schema.json``, draft 2020-12) and its one-line messages.

The schema is the published contract (``docs/report.schema.json`` is the same file): a clinic's
system or a notebook validates report.json with any JSON Schema library. facetwitch validates
every report it reads with :mod:`jsonschema` and turns the first problem into one line naming the
field (``events[1].t_peak_s must be a number, not "1.2"``), so that a hand-edited report is
refused up front (exit 3) instead of failing inside a renderer.

Schema-1 reports (written before assessable time) are validated as they are, against the
schema's version-1 branch (``if schema_version == "1"``), and only then upgraded for the
renderers: what is checked is what the file holds, not fields made up for it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

#: The schema's file, inside the package (docs/report.schema.json is a copy of it).
SCHEMA_FILE = "report.schema.json"

_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


@cache
def report_schema() -> dict:
    """Return report.json's JSON Schema (draft 2020-12) as a dict.

    Returns
    -------
    dict
        The schema (``facetwitch/reports/report.schema.json``).
    """
    text = (resources.files("facetwitch.reports") / SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator():
    from jsonschema import Draft202012Validator

    # the same schema with its references written out: twice as fast on a report of
    # thousands of events (each ``$ref`` is otherwise looked up again for every event)
    return Draft202012Validator(_inlined(report_schema(), report_schema()["$defs"]))


def _inlined(schema, defs: dict):
    """Return ``schema`` with every local ``$ref`` inlined.

    ``schema`` with every local ``$ref`` replaced by what it refers to (the schema has no
    recursive references); a ``$ref``'s own description is dropped.
    """
    if isinstance(schema, list):
        return [_inlined(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = _inlined(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        rest = {k: _inlined(v, defs) for k, v in schema.items() if k not in ("$ref", "description")}
        return {"allOf": [target], **rest} if rest else target
    return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}


def report_problem(data: dict) -> str | None:
    """Return the first problem of ``data`` against the schema, in one line, or None.

    Parameters
    ----------
    data : dict
        A report.json dict.

    Returns
    -------
    str or None
        ``"<field> is missing"`` or ``"<field> must be <what>, not <value>"``; a field's
        container is reported before what is inside it.
    """
    errors = list(_validator().iter_errors(data))
    if not errors:
        return None
    # the shallowest first (a list that is null before its items), then in document order
    error = min(errors, key=lambda e: (len(e.absolute_path), _path_key(e.absolute_path)))
    return _message(error)


def references_problem(data: dict) -> str | None:
    """Return the first reference in ``data`` to an event it does not hold, in one line, or None.

    Event ids are unique; each id in an event's ``co_occurring`` and a marker's ``event_ids``
    names one of the events, and a ``twitch_measured`` marker names at least one twitch. The
    schema cannot say this; a report whose parts disagree (edited by hand, or two reports'
    parts pasted together) would be rendered with a sentence its events do not bear out.
    ``data`` has passed :func:`report_problem`.
    """
    kinds: dict[int, str] = {}
    for k, e in enumerate(data.get("events") or []):
        if e["id"] in kinds:
            return f"events[{k}].id {e['id']} is the id of an earlier event too"
        kinds[e["id"]] = e["kind"]
    for k, e in enumerate(data.get("events") or []):
        for i in e.get("co_occurring") or []:
            if i not in kinds:
                return f"events[{k}].co_occurring names event {i}, which report.json does not hold"
    for k, m in enumerate(data.get("markers") or []):
        for i in m.get("event_ids") or []:
            if i not in kinds:
                return f"markers[{k}].event_ids names event {i}, which report.json does not hold"
        if m.get("verdict") == "twitch_measured" and not any(
            kinds[i] == "twitch" for i in m.get("event_ids") or []
        ):
            return f"markers[{k}] says a twitch was measured but names no twitch in event_ids"
    return None


def _path_key(path) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path)


def _field(path) -> str:
    """``events[1].t_peak_s`` from a jsonschema path."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(error) -> str:
    field = _field(error.absolute_path)
    if error.validator == "required":
        missing = next((n for n in error.validator_value if n not in error.instance), "?")
        return f"{field}.{missing} is missing" if field else f"{missing} is missing"
    limits = {"minimum": "at least", "maximum": "at most", "exclusiveMaximum": "less than",
              "exclusiveMinimum": "more than"}  # fmt: skip
    if error.validator in limits:
        what = f"{limits[error.validator]} {error.validator_value:g}"
    elif error.validator in ("minItems", "maxItems", "prefixItems"):
        what = "a [from, to] pair of seconds"
    else:
        what = _words(error.schema)
    if "propertyNames" in error.absolute_schema_path:
        return f"{field} has a key {_shown(error.instance)}: its keys must be {what}"
    return f"{field or 'report.json'} must be {what}, not {_shown(error.instance)}"


def _resolved(schema: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return {**report_schema()["$defs"][ref.rsplit("/", 1)[1]], **{
            k: v for k, v in schema.items() if k not in ("$ref", "description")}}  # fmt: skip
    return schema


def _words(schema: dict) -> str:
    """Describe in words what a (sub)schema accepts.

    What a (sub)schema accepts, in words: ``a list of objects``, ``one of left, right``.
    """
    schema = _resolved(schema)
    if "anyOf" in schema:
        return " or ".join(dict.fromkeys(_words(s) for s in schema["anyOf"]))
    if "const" in schema:
        return _shown(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(v if v else '""' for v in map(str, schema["enum"]))
    if "pattern" in schema:
        if schema["pattern"].startswith("^BAD_"):
            return "another name starting BAD_"
        return f"a string matching {schema['pattern']}"
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    words = []
    for t in types:
        if t == "array" and "items" in schema:
            item = _words(schema["items"])
            item = item.removeprefix("an ").removeprefix("a ")
            words.append(f"a list of {item}s" if " " not in item else f"a list of: {item}")
        else:
            words.append(_TYPE_WORDS.get(t, t))
    return " or ".join(words) or "valid"
