{#- Lines the ingestion could not parse as CSV records; kept for the data steward. -#}

with

rejected_lines as (
    select * from {{ source('bronze_sales', 'rejected_lines') }}
),

final as (
    select
        {{ clean_text('source_file') }} as source_file,
        cast(line_number as {{ dbt.type_bigint() }}) as line_number,
        raw_line,
        {{ clean_text('reason') }} as reason,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from rejected_lines
)

select * from final
