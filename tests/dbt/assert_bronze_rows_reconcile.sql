-- Nothing is lost between bronze and silver: for every source table and dlt load,
-- bronze rows = silver rows + quarantined rows + counted duplicates + deleted customers
-- + lines superseded by a corrected delivery of their file.
-- Returns the loads where the equation does not hold.

select
    source_name,
    table_name,
    _dlt_load_id,
    bronze_rows,
    silver_rows,
    quarantined_rows,
    duplicate_rows,
    deleted_rows,
    superseded_rows
from {{ ref('dq_row_reconciliation') }}
where
    bronze_rows
    <> silver_rows + quarantined_rows + duplicate_rows + deleted_rows + superseded_rows
