"""``python -m tools.benchmark``: measure the platform against a floor, write a report.

Every step runs as its own process so its wall time and peak memory are its own. Each
number stands beside a floor measured in the same run: DuckDB (or the plainest Python) reading
the same raw files directly, the least work any pipeline over that data could do.
"""
