"""The one shape of a machine-readable error: {"error": code, "message": why, …} with its status."""
from __future__ import annotations

from flask import Response, jsonify


def json_error(http_status: int, code: str, message: str = "", **extra: object) -> tuple[Response, int]:
    body = {"error": code, **({"message": message} if message else {}), **extra}
    return jsonify(body), http_status
