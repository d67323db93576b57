{#- Lines of sales files that could not be loaded (not a CSV record of the header's width,
    not valid UTF-8, too long); kept for the data steward. -#}

with

rejected_lines as (
    {#- dlt creates the table with its first rejected line: until then, an empty stand-in #}
    select * from {{ source_or_empty('bronze_sales', 'rejected_lines', {
        'source_file': dbt.type_string(),
        'line_number': dbt.type_bigint(),
        'raw_line': dbt.type_string(),
        'reason': dbt.type_string(),
        '_dlt_load_id': dbt.type_string(),
        '_loaded_at': dbt.type_timestamp(),
    }) }}
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
