"""The staff console under /staff: sign-in (password and TOTP), today's takings, finding an
invoice and its story, reconciliation reports, stuck queue items, payment export, conversations.

Every page needs a signed-in account of a sufficient role (`viewer` < `finance` < `admin`; 403
otherwise); without one, the sign-in page. Every form carries a CSRF token (Flask-WTF; 400
without it). Every action is a staff action entry, a link of the audit chain.
"""
from __future__ import annotations

from bot.web.console import accounts, books, closing, signin, story, talk  # noqa: F401  (each registers its pages)
from bot.web.console.base import SIGN_IN_LIMIT, bp, install

__all__ = ["SIGN_IN_LIMIT", "bp", "install"]
