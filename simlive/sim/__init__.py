"""The broadcast model: audience, orders and stock, after-sales desk, records, verdicts."""
