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

customer_totals as (
    select
        customer_id,
        min(case when {{ is_purchase('is_return') }} then cast(sold_at as date) end)
            as first_purchase_date,
        max(case when {{ is_purchase('is_return') }} then cast(sold_at as date) end)
            as last_purchase_date,
        count(distinct case when {{ is_purchase('is_return') }} then sales_document_id end)
            as purchase_count,
        sum(case when {{ is_purchase('is_return') }} then 0 else -1 * quantity end)
            as quantity_returned,
        sum(net_amount) as net_revenue,
        sum(case when channel = 'store' then net_amount else 0 end) as store_net_revenue,
        sum(case when channel = 'online' then net_amount else 0 end) as online_net_revenue,
        sum(net_amount - coalesce(cost_amount, 0)) as gross_margin
    from sales
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
