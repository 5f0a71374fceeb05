"""Requests checked against LINE's own description of the Messaging API: the OpenAPI document
LINE publishes (github.com/line/line-openapi, messaging-api.yml, Apache-2.0; vendored unchanged in
bot/dev/line_openapi with its licence, commit 6e4c2a2 of 2026-07-01).

OpenAPI 3.0 is not quite JSON Schema: a `discriminator` names the subtype that a value's `type`
selects (a "flex" message is a FlexMessage), which a JSON Schema validator ignores, and `nullable`
widens a type. Both are translated here, once per process, into JSON Schema 2020-12 (each
discriminated base dispatches with if/then on its property, and an unknown value is refused, as
LINE refuses an unknown message or component type); jsonschema-rs then checks a request in
microseconds. The limits the document does not state (text lengths, bubble sizes) are
`bot.dev.line_limits`."""
from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

DOCUMENT = Path(__file__).parent / "line_openapi" / "messaging-api.yml"
PREFIX = "#/components/schemas/"
BASE = "__base"  # the discriminated schema itself, as its subtypes' allOf names it


def _translated(schemas: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schemas)
    bases = {name: s["discriminator"] for name, s in schemas.items() if isinstance(s, dict) and "discriminator" in s}
    for name, discriminator in bases.items():
        base = out[name]
        base.pop("discriminator")
        out[name + BASE] = base
        prop, mapping = discriminator["propertyName"], discriminator.get("mapping", {})
        # if/then rather than oneOf: an error then points into the subtype that was meant
        out[name] = {
            "properties": {prop: {"enum": sorted(mapping)}},
            "required": [prop],
            "allOf": [{"$ref": PREFIX + name + BASE}] + [
                {"if": {"properties": {prop: {"const": value}}}, "then": {"$ref": target}}
                for value, target in sorted(mapping.items())],
        }
        for target in mapping.values():  # a subtype's allOf names the base, not the dispatch
            sub = out[target.removeprefix(PREFIX)]
            for part in sub.get("allOf", []):
                if part.get("$ref") == PREFIX + name:
                    part["$ref"] = PREFIX + name + BASE
    _widen_nullable(out)
    return out


def _widen_nullable(node: Any) -> None:
    if isinstance(node, dict):
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        for value in node.values():
            _widen_nullable(value)
    elif isinstance(node, list):
        for value in node:
            _widen_nullable(value)


@cache
def _components() -> dict[str, Any]:
    with DOCUMENT.open("rb") as f:
        document = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {"schemas": _translated(document["components"]["schemas"])}


@cache
def validator(schema_name: str) -> Any:
    """A validator of one request body of the document, e.g. "ReplyMessageRequest"."""
    if schema_name not in _components()["schemas"]:
        raise KeyError(schema_name)
    return jsonschema_rs.Draft202012Validator(
        {"$ref": PREFIX + schema_name, "components": _components()}, validate_formats=False)


def problems(schema_name: str, body: object) -> list[dict]:
    """LINE's `details` for what breaks the schema: [{"message": …, "property": …}]; [] when fine."""
    out = []
    for error in validator(schema_name).iter_errors(body):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path).lstrip(".")
        out.append({"message": error.message[:300], "property": where or "(body)"})
        if len(out) >= 10:
            break
    return out
