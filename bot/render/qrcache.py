"""What a QR image showed, kept on disk per invoice so that `/qr/<token>.png` is still served while
the database cannot be reached (LINE fetches the image seconds after the reply; an outage must not
turn a sent card into a broken picture). Shared by the web processes of one machine; written only
when what an invoice's QR shows changes."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Shown:
    payload: str  # the Thai QR payload
    amount: str
    invoice_no: str
    ref2: str | None
    due_date: str  # ISO: after it the QR is not served, outage or not


class QrCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, public_id: str) -> Path:
        return self.directory / f"{public_id}.json"

    def remember(self, public_id: str, shown: Shown) -> None:
        path = self._path(public_id)
        body = json.dumps(asdict(shown), ensure_ascii=False, sort_keys=True)
        try:
            if path.exists() and path.read_text(encoding="utf-8") == body:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(tmp, path)  # whole or not at all, whichever process reads it
        except OSError:
            pass  # a cache: the image was served, the next request tries again

    def recall(self, public_id: str, today: date) -> Shown | None:
        """What the invoice's QR last showed, while its due date has not passed."""
        try:
            shown = Shown(**json.loads(self._path(public_id).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        return shown if date.fromisoformat(shown.due_date) >= today else None
