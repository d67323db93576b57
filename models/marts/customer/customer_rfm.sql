{#-
    Recency, frequency and monetary value per known customer with at least one purchase
    (is_purchase: a sales line that is not a return), scored 1-5 with ntile and named
    with a segment. Measured as of the last day with sales, so the same data scores the
    same on any day. The scores, their tie-break and the segment table are documented
    in _customer__models.yml; this SQL applies exactly that.
-#}

with

customer_totals as (
    select * from {{ ref('int_customer_purchase_totals') }}
),

as_of as (
    select max(cast(sold_at as date)) as as_of_date
    from {{ ref('fct_sales') }}
),

purchasers as (
    select
        customer_totals.customer_id,
        as_of.as_of_date,
        customer_totals.first_purchase_date,
        customer_totals.last_purchase_date,
        cast(
            {{ dbt.datediff('customer_totals.last_purchase_date', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as recency_days,
        customer_totals.purchase_count as frequency,
        customer_totals.net_revenue as monetary_value
    from customer_totals
    cross join as_of
    where customer_totals.first_purchase_date is not null
),

scored as (
    {#-
        Each score sorts the customers from worst to best, ties by customer id
        ascending, and ntile(5) cuts that order into five groups: 1 = the worst
        fifth, 5 = the best.
    #}
    select
        purchasers.*,
        ntile(5) over (
            order by purchasers.recency_days desc, purchasers.customer_id asc
        ) as recency_score,
        ntile(5) over (
            order by purchasers.frequency asc, purchasers.customer_id asc
        ) as frequency_score,
        ntile(5) over (
            order by purchasers.monetary_value asc, purchasers.customer_id asc
        ) as monetary_score
    from purchasers
),

segmented as (
    {#-
        The segment table of _customer__models.yml, branch by branch; no two branches
        overlap and together they cover every score, so their order does not matter.
    #}
    select
        scored.*,
        case
            when scored.recency_score >= 4 and scored.frequency_score >= 4
                and scored.monetary_score >= 4
                then 'Champions'
            when scored.recency_score >= 4 and scored.frequency_score >= 4
                and scored.monetary_score <= 3
                then 'Loyal Customers'
            when scored.recency_score = 3 and scored.frequency_score >= 4
                then 'Loyal Customers'
            when scored.recency_score >= 4 and scored.frequency_score in (2, 3)
                then 'Potential Loyalists'
            when scored.recency_score >= 4 and scored.frequency_score = 1
                then 'New Customers'
            when scored.recency_score = 3 and scored.frequency_score <= 3
                then 'Needs Attention'
            when scored.recency_score <= 2 and scored.frequency_score >= 4
                then 'Cannot Lose Them'
            when scored.recency_score <= 2 and scored.frequency_score = 3
                then 'At Risk'
            when scored.recency_score = 2 and scored.frequency_score <= 2
                then 'Hibernating'
            when scored.recency_score = 1 and scored.frequency_score = 2
                then 'Hibernating'
            when scored.recency_score = 1 and scored.frequency_score = 1
                then 'Lost'
        end as rfm_segment
    from scored
),

final as (
    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(as_of_date as date) as as_of_date,
        cast(first_purchase_date as date) as first_purchase_date,
        cast(last_purchase_date as date) as last_purchase_date,
        cast(recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(frequency as {{ dbt.type_int() }}) as frequency,
        cast(monetary_value as {{ type_amount() }}) as monetary_value,
        cast(recency_score as {{ dbt.type_int() }}) as recency_score,
        cast(frequency_score as {{ dbt.type_int() }}) as frequency_score,
        cast(monetary_score as {{ dbt.type_int() }}) as monetary_score,
        cast({{ dbt.concat([
            'cast(recency_score as ' ~ dbt.type_string() ~ ')',
            'cast(frequency_score as ' ~ dbt.type_string() ~ ')',
            'cast(monetary_score as ' ~ dbt.type_string() ~ ')',
        ]) }} as {{ type_text() }}) as rfm_score,
        cast(rfm_segment as {{ type_text() }}) as rfm_segment
    from segmented
)

select * from final
