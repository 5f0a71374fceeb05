"""Every sentence a user sees comes from the Babel catalogs in `locale/` (th default, en)."""
from __future__ import annotations

from functools import lru_cache

from babel.support import NullTranslations, Translations

from .resources import resource_dir

LOCALE_DIR = resource_dir("locale")
LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"


def supported(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    lang = supported(lang)
    found = Translations.load(str(LOCALE_DIR), locales=[lang], domain="messages")
    if not isinstance(found, Translations):
        # A missing compiled catalog would silently show English msgids to Thai users.
        raise RuntimeError(f"compiled catalog for {lang!r} not found under {LOCALE_DIR}")
    return found


class Translator:
    """gettext bound to one user's language."""

    def __init__(self, lang: str | None):
        self.lang = supported(lang)
        self._t = translations(self.lang)

    def __call__(self, message: str, **params: object) -> str:
        text = self._t.gettext(message)
        return text % params if params else text

    def plural(self, singular: str, plural: str, count: int, **params: object) -> str:
        """The form for `count` (English has two, Thai one); `%(count)s` is filled in."""
        return self._t.ngettext(singular, plural, count) % {"count": count, **params}


def N_(message: str) -> str:
    """Mark a string for extraction; translated later, at display time."""
    return message
