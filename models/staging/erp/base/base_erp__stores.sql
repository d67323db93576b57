{#- Every store row in bronze (merged on store_id by dlt), typed and classified. -#}

with

stores as (
    select * from {{ source('bronze_erp', 'stores') }}
),

typed as (
    select
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        upper({{ clean_text('store_code') }}) as store_code,
        {{ clean_text('store_name') }} as store_name,
        lower({{ clean_text('store_type') }}) as store_type,
        {{ clean_text('region') }} as region,
        {{ title_case('city') }} as city,  -- noqa: PRS
        {{ country_lookup_key('country') }} as country_lookup_key,
        cast(opened_on as date) as opened_on,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from stores
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by typed.store_id
            order by typed.updated_at desc, typed._loaded_at desc, typed._dlt_load_id desc
        ) as version_rank
    from typed
),

classified as (
    select
        ranked.*,
        case
            when ranked.store_id is null or ranked.store_code is null then 'quarantined'
            when ranked.version_rank > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        case
            when ranked.store_id is null or ranked.store_code is null then 'null_key'
        end as quarantine_rule
    from ranked
)

select * from classified
