{#-
    Every order row in bronze (merged on order_id by dlt), typed and classified. Rules,
    first match wins: null_key (order or store id missing), unparseable_date (no
    ordered_at), date_out_of_range (ordered_at or updated_at outside dim_date: a return
    line is dated with updated_at), unknown_status (a status gold does not know).
-#}

with

orders as (
    select * from {{ source('bronze_erp', 'orders') }}
),

typed as (
    select
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        lower({{ clean_text('order_status') }}) as order_status,
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from orders
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by typed.order_id
            order by typed.updated_at desc, typed._loaded_at desc, typed._dlt_load_id desc
        ) as version_rank
    from typed
),

with_rule as (
    select
        ranked.*,
        case
            when ranked.order_id is null or ranked.store_id is null then 'null_key'
            when ranked.ordered_at is null then 'unparseable_date'
            when {{ is_outside_calendar('ranked.ordered_at') }}
                or {{ is_outside_calendar('ranked.updated_at') }}
                then 'date_out_of_range'
            when ranked.order_status is null
                or ranked.order_status not in (
                    'placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned'
                )
                then 'unknown_status'
        end as quarantine_rule
    from ranked
),

classified as (
    select
        with_rule.*,
        {{ row_status('with_rule.quarantine_rule', 'with_rule.version_rank') }} as row_status
    from with_rule
)

select * from classified
