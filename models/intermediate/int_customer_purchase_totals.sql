{#-
    One row per known customer (is_known_customer) with a sales line: what customer_rfm
    and customer_lifetime_value both start from, so fct_sales is grouped by customer once
    a run instead of once for each. A purchase is a line that is not a return
    (is_purchase); the purchase dates and count are null / 0 for a customer who only
    returned things, and the amounts are net of every return.
-#}

{{ config(materialized='table') }}

with

sales as (
    select * from {{ ref('fct_sales') }}
    where {{ is_known_customer('customer_key') }}
),

-- grouped by document first, then by customer: a document is a purchase when one of its
-- lines is, so the purchase count is a sum instead of a distinct count within each
-- customer (half the time on DuckDB at 20M lines)
document_totals as (
    select
        customer_id,
        sales_document_id,
        min(case when {{ is_purchase('is_return') }} then cast(sold_at as date) end)
            as first_purchase_date,
        max(case when {{ is_purchase('is_return') }} then cast(sold_at as date) end)
            as last_purchase_date,
        max(
            case
                when {{ is_purchase('is_return') }} and sales_document_id is not null then 1
                else 0
            end
        ) as is_purchase_document,
        sum(case when {{ is_purchase('is_return') }} then 0 else -1 * quantity end)
            as quantity_returned,
        sum(net_amount) as net_revenue,
        sum(case when channel = 'store' then net_amount else 0 end) as store_net_revenue,
        sum(case when channel = 'online' then net_amount else 0 end) as online_net_revenue,
        sum(net_amount - coalesce(cost_amount, 0)) as gross_margin
    from sales
    group by customer_id, sales_document_id
),

customer_totals as (
    select
        customer_id,
        min(first_purchase_date) as first_purchase_date,
        max(last_purchase_date) as last_purchase_date,
        sum(is_purchase_document) as purchase_count,
        sum(quantity_returned) as quantity_returned,
        sum(net_revenue) as net_revenue,
        sum(store_net_revenue) as store_net_revenue,
        sum(online_net_revenue) as online_net_revenue,
        sum(gross_margin) as gross_margin
    from document_totals
    group by customer_id
),

final as (
    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(first_purchase_date as date) as first_purchase_date,
        cast(last_purchase_date as date) as last_purchase_date,
        cast(purchase_count as {{ dbt.type_int() }}) as purchase_count,
        cast(quantity_returned as {{ dbt.type_int() }}) as quantity_returned,
        cast(net_revenue as {{ type_amount() }}) as net_revenue,
        cast(store_net_revenue as {{ type_amount() }}) as store_net_revenue,
        cast(online_net_revenue as {{ type_amount() }}) as online_net_revenue,
        cast(gross_margin as {{ type_amount() }}) as gross_margin
    from customer_totals
)

select * from final
