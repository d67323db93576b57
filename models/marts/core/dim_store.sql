with

store_snapshot as (
    select * from {{ scd2_history('snp_erp__stores', 'stg_erp__stores') }}
),

versions as (
    select
        store_snapshot.*,
        {{ scd2_valid_from('store_snapshot.store_id') }} as version_valid_from
    from store_snapshot
    where store_snapshot.dbt_is_deleted = 'False'
),

store_versions as (
    select
        {{ generate_surrogate_key(['store_id', 'dbt_valid_from']) }} as store_key,
        store_id,
        store_code,
        store_name,
        store_type,
        region,
        city,
        country_code,
        opened_on,
        version_valid_from as valid_from,
        coalesce(cast(dbt_valid_to as {{ dbt.type_timestamp() }}), {{ scd2_end_of_time() }})
            as valid_to,
        {{ as_boolean('dbt_valid_to is null') }} as is_current
    from versions
),

unknown_member as (
    select
        {{ unknown_member_key() }} as store_key,
        cast(-1 as {{ dbt.type_bigint() }}) as store_id,
        'UNKNOWN' as store_code,
        'Unknown store' as store_name,
        'unknown' as store_type,
        'Unknown' as region,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as date) as opened_on,
        {{ scd2_beginning_of_time() }} as valid_from,
        {{ scd2_end_of_time() }} as valid_to,
        {{ boolean_literal(true) }} as is_current
),

unioned as (
    select * from store_versions
    union all
    select * from unknown_member
),

final as (
    select
        cast(store_key as {{ type_text() }}) as store_key,
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        cast(store_code as {{ type_text() }}) as store_code,
        cast(store_name as {{ type_text() }}) as store_name,
        cast(store_type as {{ type_text() }}) as store_type,
        cast(region as {{ type_text() }}) as region,
        cast(city as {{ type_text() }}) as city,
        cast(country_code as {{ type_text() }}) as country_code,
        cast(opened_on as date) as opened_on,
        cast(valid_from as {{ dbt.type_timestamp() }}) as valid_from,
        cast(valid_to as {{ dbt.type_timestamp() }}) as valid_to,
        cast(is_current as {{ dbt.type_boolean() }}) as is_current
    from unioned
)

select * from final
