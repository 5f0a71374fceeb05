"""The bank edge: Krungthai bill-payment commands (CONTRACT section 5)."""
