{#- Sales lines that cannot enter silver, with the rule that rejected them. -#}

with

sales_lines as (
    select * from {{ ref('base_sales__sales_lines') }}
    where row_status = 'quarantined'
),

final as (
    select
        'sales' as source_name,
        'sales_lines' as table_name,
        {{ dbt.concat([
            "coalesce(transaction_id, '')",
            "'#'",
            "coalesce(line_number_raw, '')",
            "'@'",
            "_source_file",
            "':'",
            "cast(_source_row as " ~ dbt.type_string() ~ ")",
        ]) }} as record_key,
        quarantine_rule,
        case quarantine_rule
            when 'unparseable_quantity' then quantity_raw
            when 'unparseable_date' then sold_at_raw
            when 'impossible_amount' then unit_price_raw
            when 'orphan_store' then store_code
            else transaction_id
        end as rejected_value,
        _dlt_load_id,
        _loaded_at
    from sales_lines
)

select * from final
