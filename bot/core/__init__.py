"""The pure core: no Flask, no LINE SDK, no database. Text, money, dates, QR payloads."""
