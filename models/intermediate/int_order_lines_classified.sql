{#-
    Every order line in bronze, with its final row_status. base_erp__order_lines applies
    the rules of the order lines table alone; the last rule, orphan_order (the line's order
    does not exist, or is quarantined), needs a second table, the valid orders of
    stg_erp__orders, so that check lives here. It only reaches a line no other rule caught:
    the rules still apply first match wins, and an older copy of an orphan line stays a
    duplicate.

    This is the one place that decides an order line's fate: stg_erp__order_lines keeps its
    valid rows, quarantine_erp and fct_orders its quarantined ones and
    dq_row_reconciliation counts its duplicates from here. It sits between base and staging
    on purpose: the staging model is the silver view the marts read and must already be
    without orphan lines, and a second orders join in the staging model could disagree with
    this one, so the reconciliation would no longer prove where every row went.

    Stored as a table, so each of its many readers reads the decision instead of making it
    again from bronze.
-#}

{{ config(materialized='table') }}

with

order_lines as (
    select * from {{ ref('base_erp__order_lines') }}
),

orders as (
    select * from {{ ref('stg_erp__orders') }}
),

classified as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.updated_at,
        order_lines._dlt_load_id,
        order_lines._loaded_at,
        order_lines.version_rank,
        case
            when order_lines.quarantine_rule is not null then order_lines.quarantine_rule
            when orders.order_id is null then 'orphan_order'
        end as quarantine_rule,
        case
            when order_lines.row_status = 'valid' and orders.order_id is null
                then 'quarantined'
            else order_lines.row_status
        end as row_status
    from order_lines
    left join orders
        on order_lines.order_id = orders.order_id
)

select * from classified
