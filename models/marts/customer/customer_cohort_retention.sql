{#-
    Monthly acquisition cohorts (the month of a known customer's first purchase) against
    the months since that first purchase: how many of the cohort bought again in each
    month. A purchase is a sales line that is not a return (is_purchase), as in every
    customer model: a customer who only returned things belongs to no cohort.
    Every cohort has a row for every month up to the last month with sales, so a month
    without buyers shows as 0 rather than missing.
-#}

with

purchases as (
    select * from {{ ref('fct_sales') }}
    where {{ is_known_customer('customer_key') }}
        and {{ is_purchase('is_return') }}
),

months as (
    select distinct month_start_date
    from {{ ref('dim_date') }}
    where month_start_date is not null
),

customer_months as (
    select distinct
        customer_id,
        cast({{ dbt.date_trunc('month', 'sold_at') }} as date) as activity_month
    from purchases
),

cohorts as (
    select
        customer_id,
        min(activity_month) as cohort_month
    from customer_months
    group by customer_id
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_size
    from cohorts
    group by cohort_month
),

last_month as (
    select max(activity_month) as last_activity_month
    from customer_months
),

cohort_grid as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        months.month_start_date as activity_month,
        cast(
            {{ dbt.datediff('cohort_sizes.cohort_month', 'months.month_start_date', 'month') }}
            as {{ dbt.type_int() }}
        ) as months_since_first_purchase
    from cohort_sizes
    cross join last_month
    inner join months
        on cohort_sizes.cohort_month <= months.month_start_date
        and last_month.last_activity_month >= months.month_start_date
),

activity as (
    select
        cohorts.cohort_month,
        customer_months.activity_month,
        count(*) as active_customers
    from customer_months
    inner join cohorts
        on customer_months.customer_id = cohorts.customer_id
    group by cohorts.cohort_month, customer_months.activity_month
),

final as (
    select
        cast(cohort_grid.cohort_month as date) as cohort_month,
        cast(cohort_grid.months_since_first_purchase as {{ dbt.type_int() }})
            as months_since_first_purchase,
        cast(cohort_grid.activity_month as date) as activity_month,
        cast(cohort_grid.cohort_size as {{ dbt.type_int() }}) as cohort_size,
        cast(coalesce(activity.active_customers, 0) as {{ dbt.type_int() }}) as active_customers,
        cast(
            {{ divide_rounded(
                'coalesce(activity.active_customers, 0)', 'cohort_grid.cohort_size', 4
            ) }}
            as {{ type_ratio() }}
        ) as retention_rate
    from cohort_grid
    left join activity
        on cohort_grid.cohort_month = activity.cohort_month
        and cohort_grid.activity_month = activity.activity_month
)

select * from final
