{#- Hard deletes from the CRM deletion log; the latest deletion per customer is kept. -#}

with

deletions as (
    select * from {{ source_or_empty('bronze_crm', 'customer_deletions', {
        'customer_id': dbt.type_bigint(),
        'deleted_at': dbt.type_timestamp(),
        '_dlt_load_id': dbt.type_string(),
        '_loaded_at': dbt.type_timestamp(),
    }) }}
),

typed as (
    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        {{ to_utc_timestamp('deleted_at') }} as deleted_at,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from deletions
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by typed.customer_id
            order by typed.deleted_at desc, typed._loaded_at desc, typed._dlt_load_id desc
        ) as version_rank
    from typed
),

classified as (
    select
        ranked.*,
        case
            when ranked.customer_id is null or ranked.deleted_at is null then 'quarantined'
            when ranked.version_rank > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        case
            when ranked.customer_id is null then 'null_key'
            when ranked.deleted_at is null then 'unparseable_date'
        end as quarantine_rule
    from ranked
)

select * from classified
