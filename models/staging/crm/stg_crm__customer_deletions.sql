with

deletions as (
    select * from {{ ref('base_crm__customer_deletions') }}
    where row_status = 'valid'
),

final as (
    select
        customer_id,
        deleted_at,
        _dlt_load_id,
        _loaded_at
    from deletions
)

select * from final
