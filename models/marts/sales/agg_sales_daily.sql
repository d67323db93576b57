{#-
    Daily sales by store, product category (as it was on the day of sale) and channel.
    Quantities and amounts are net of returns; returns are also shown on their own.
    customer_count counts known customers only (is_known_customer): an id the CRM does
    not know is keyed to the unknown member and is not counted, like a walk-in.
    Incremental: a run rebuilds only the days whose lines changed (macros/marts/
    sales_periods.sql).
-#}

-- depends_on: {{ ref('fct_sales') }}, {{ ref('dim_date') }}
{{ config(
    materialized=sales_aggregate_materialization(),
    unique_key='date_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_sales_periods_without_lines('date_key') }}",
) }}

with

sales_with_attributes as (
    select * from {{ ref('int_sales_lines_enriched') }}
),

{% if is_incremental() %}
periods_to_rebuild as (
    {{ sales_periods_to_rebuild('date_key') }}
),
{% endif %}

daily as (
    select
        date_key,
        sale_date,
        store_id,
        store_code,
        product_category,
        channel,
        count(*) as line_count,
        count(distinct sales_document_id) as transaction_count,
        count(distinct case when {{ is_known_customer('customer_key') }} then customer_id end)
            as customer_count,
        sum(case when {{ is_true('is_return') }} then 0 else quantity end) as quantity_sold,
        sum(case when {{ is_true('is_return') }} then -1 * quantity else 0 end)
            as quantity_returned,
        sum(quantity) as net_quantity,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_amount,
        sum(case when {{ is_true('is_return') }} then -1 * net_amount else 0 end)
            as returned_amount,
        sum(cost_amount) as cost_amount
    from sales_with_attributes
    {% if is_incremental() %}
    where date_key in (select date_key from periods_to_rebuild)
    {% endif %}
    group by date_key, sale_date, store_id, store_code, product_category, channel
),

final as (
    select
        cast(date_key as {{ dbt.type_int() }}) as date_key,
        cast(sale_date as date) as sale_date,
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        cast(store_code as {{ type_text() }}) as store_code,
        cast(product_category as {{ type_text() }}) as product_category,
        cast(channel as {{ type_text() }}) as channel,
        cast(line_count as {{ dbt.type_bigint() }}) as line_count,
        cast(transaction_count as {{ dbt.type_bigint() }}) as transaction_count,
        cast(customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(quantity_sold as {{ dbt.type_bigint() }}) as quantity_sold,
        cast(quantity_returned as {{ dbt.type_bigint() }}) as quantity_returned,
        cast(net_quantity as {{ dbt.type_bigint() }}) as net_quantity,
        cast(gross_amount as {{ type_amount() }}) as gross_amount,
        cast(discount_amount as {{ type_amount() }}) as discount_amount,
        cast(net_amount as {{ type_amount() }}) as net_amount,
        cast(returned_amount as {{ type_amount() }}) as returned_amount,
        cast(cost_amount as {{ type_amount() }}) as cost_amount,
        cast(net_amount - coalesce(cost_amount, 0) as {{ type_amount() }}) as gross_margin_amount,
        {{ built_at() }} as _built_at
    from daily
)

select * from final
