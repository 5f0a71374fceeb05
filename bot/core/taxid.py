"""Thai 13-digit tax / citizen ID checksum (mod 11 over weights 13..2)."""
from __future__ import annotations


def is_valid_tax_id(value: str) -> bool:
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:12], range(13, 1, -1)))
    return (11 - total % 11) % 10 == int(value[12])


def with_check_digit(first12: str) -> str:
    total = sum(int(d) * w for d, w in zip(first12, range(13, 1, -1)))
    return first12 + str((11 - total % 11) % 10)
