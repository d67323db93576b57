{#- Every product row in bronze (merged on product_id by dlt), typed and classified. -#}

with

products as (
    select * from {{ source('bronze_erp', 'products') }}
),

typed as (
    select
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        upper({{ clean_text('sku') }}) as sku,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('category') }} as category_label,
        lower({{ collapse_whitespace(clean_text('category')) }}) as category_lookup_key,
        {{ clean_text('brand') }} as brand,
        cast(unit_cost as {{ type_amount() }}) as unit_cost,
        cast(list_price as {{ type_amount() }}) as list_price,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from products
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by typed.product_id
            order by typed.updated_at desc, typed._loaded_at desc, typed._dlt_load_id desc
        ) as version_rank
    from typed
),

classified as (
    select
        ranked.*,
        case
            when ranked.product_id is null or ranked.sku is null then 'quarantined'
            when ranked.list_price < 0 or ranked.unit_cost < 0 then 'quarantined'
            when ranked.version_rank > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        case
            when ranked.product_id is null or ranked.sku is null then 'null_key'
            when ranked.list_price < 0 or ranked.unit_cost < 0 then 'impossible_amount'
        end as quarantine_rule
    from ranked
)

select * from classified
