{#- One row per delivery of a sales file: loaded, skipped as identical to content already
    loaded, or rejected as unreadable. -#}

with

delivered_files as (
    select * from {{ source('bronze_sales', 'delivered_files') }}
),

final as (
    select
        {{ clean_text('file_name') }} as file_name,
        lower({{ clean_text('file_sha256') }}) as file_sha256,
        cast(size_bytes as {{ dbt.type_bigint() }}) as size_bytes,
        {{ to_utc_timestamp('modified_at') }} as modified_at,
        cast(row_count as {{ dbt.type_bigint() }}) as row_count,
        cast(rejected_count as {{ dbt.type_bigint() }}) as rejected_count,
        lower({{ clean_text('status') }}) as delivery_status,
        {{ clean_text('duplicate_of') }} as duplicate_of,
        {#- recorded from the first file rejection on; older deliveries read null #}
        {{ clean_text(column_if_exists(
            source('bronze_sales', 'delivered_files'), 'reason', dbt.type_string())) }} as reason,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from delivered_files
)

select * from final
