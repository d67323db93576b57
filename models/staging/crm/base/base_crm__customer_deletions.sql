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
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ type_conflict_value(source('bronze_crm', 'customer_deletions')) }}
            as type_conflict_value
    from deletions
),

screened as (
    select
        typed.*,
        case
            when typed.type_conflict_value is not null then 'type_conflict'
            when typed.customer_id is null then 'null_key'
            when typed.deleted_at is null then 'unparseable_date'
        end as quarantine_rule
    from typed
),

-- quarantined rows are ranked apart: they never displace a customer's valid deletion
ranked as (
    select
        screened.*,
        row_number() over (
            partition by screened.customer_id, screened.quarantine_rule
            order by screened.deleted_at desc, screened._loaded_at desc, screened._dlt_load_id desc
        ) as version_rank
    from screened
),

classified as (
    select
        ranked.*,
        case
            when ranked.quarantine_rule is not null then 'quarantined'
            when ranked.version_rank > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        case
            when ranked.quarantine_rule = 'type_conflict' then ranked.type_conflict_value
            when ranked.quarantine_rule is not null
                then cast(ranked.deleted_at as {{ dbt.type_string() }})
        end as rejected_value
    from ranked
)

select * from classified
