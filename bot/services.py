"""The app's services (bot.factory.Services), typed, for whatever serves a request: the web
pages, the console, the bank's endpoints, the simulator. One accessor instead of
`current_app.extensions["tisi"]` looked up untyped everywhere."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from bot.factory import Services

KEY = "tisi"  # where bot.factory keeps them in app.extensions


def services() -> Services:
    found: Services = current_app.extensions[KEY]
    return found
