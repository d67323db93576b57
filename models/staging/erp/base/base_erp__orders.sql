{#- Every order row in bronze (merged on order_id by dlt), typed and classified. -#}

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

classified as (
    select
        ranked.*,
        case
            when ranked.order_id is null then 'quarantined'
            when ranked.ordered_at is null then 'quarantined'
            when ranked.version_rank > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        case
            when ranked.order_id is null then 'null_key'
            when ranked.ordered_at is null then 'unparseable_date'
        end as quarantine_rule
    from ranked
)

select * from classified
