"""Deterministic demo sources: a CRM HTTP API, an ERP database and daily sales files.

Same seed, same data. ``generate`` writes day 0 (a history window); ``advance`` applies daily
increments carrying what real feeds carry: moves, tier and price changes, status updates,
deletes, late and duplicated deliveries, and deliberately planted bad rows that are counted
in ``planted.json`` so tests can check each one is caught.
"""
