"""Great Expectations gates at the layer boundaries of the medallion pipeline.

* ``bronze``: after the ingestion, on the rows of the new dlt loads only (by
  ``_dlt_load_id``): keys present, raw text values that parse, row counts equal to what
  the ingestion reported. It stops the pipeline before silver and gold are built.
* ``gold``: after dbt, on the star schema: revenue not negative except on returns, one
  current row per natural key in the SCD2 dimensions, fact foreign keys that resolve to a
  dimension row. It stops the pipeline before the Power BI refresh.

Suites are written in code (``bronze.py``, ``gold.py``); each ``Check`` pairs a query
with an ``ExpectationSuite``. ``runner.py`` validates them with GX 1.x: through pandas on
DuckDB (GX cannot reflect DuckDB through SQLAlchemy) and through SQL on PostgreSQL.
A failed expectation of severity ``critical`` raises ``DataQualityError``; a failed
``warning`` is logged and recorded in the audit tables.
"""
