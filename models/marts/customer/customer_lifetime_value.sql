{#-
    Lifetime value per known customer with at least one purchase (is_purchase: a sales
    line that is not a return): what they spent so far (net of all their returns, by
    channel), margin, order value and pace, and a simple projection of the next
    var('clv_projection_months') months at their average monthly net spend since their
    first purchase. Measured as of the last day with sales.
-#}

with

customer_totals as (
    select * from {{ ref('int_customer_purchase_totals') }}
),

as_of as (
    select max(cast(sold_at as date)) as as_of_date
    from {{ ref('fct_sales') }}
),

paced as (
    select
        customer_totals.*,
        as_of.as_of_date,
        cast(
            {{ dbt.datediff('customer_totals.first_purchase_date', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as customer_age_days,
        cast(
            {{ dbt.datediff(
                'customer_totals.first_purchase_date', 'as_of.as_of_date', 'month'
            ) }} + 1 as {{ dbt.type_int() }}
        ) as active_months
    from customer_totals
    cross join as_of
    where customer_totals.first_purchase_date is not null
),

valued as (
    {#-
        Every customer here has a purchase, so purchase_count and active_months are at
        least 1. The projection divides once, from the unrounded monthly pace.
    #}
    select
        paced.*,
        {{ divide_rounded('net_revenue', 'purchase_count') }} as average_order_value,
        {{ divide_rounded('net_revenue', 'active_months') }} as average_monthly_revenue,
        {{ divide_rounded('net_revenue * ' ~ var('clv_projection_months'), 'active_months') }}
            as projected_revenue
    from paced
),

final as (
    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(as_of_date as date) as as_of_date,
        cast(first_purchase_date as date) as first_purchase_date,
        cast(last_purchase_date as date) as last_purchase_date,
        cast(customer_age_days as {{ dbt.type_int() }}) as customer_age_days,
        cast(active_months as {{ dbt.type_int() }}) as active_months,
        cast(purchase_count as {{ dbt.type_int() }}) as purchase_count,
        cast(quantity_returned as {{ dbt.type_int() }}) as quantity_returned,
        cast(net_revenue as {{ type_amount() }}) as net_revenue,
        cast(store_net_revenue as {{ type_amount() }}) as store_net_revenue,
        cast(online_net_revenue as {{ type_amount() }}) as online_net_revenue,
        cast(gross_margin as {{ type_amount() }}) as gross_margin,
        cast(average_order_value as {{ type_amount() }}) as average_order_value,
        cast(average_monthly_revenue as {{ type_amount() }}) as average_monthly_revenue,
        cast(projected_revenue as {{ type_amount() }}) as projected_revenue,
        cast(net_revenue + cast(projected_revenue as {{ type_amount() }}) as {{ type_amount() }})
            as customer_lifetime_value
    from valued
)

select * from final
