{#- Sales lines that cannot enter silver, with the rule that rejected them and the value it rejected. -#}

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
        case
            when quarantine_rule = 'unparseable_quantity' then quantity_raw
            when quarantine_rule = 'impossible_quantity' then quantity_raw
            when quarantine_rule = 'quantity_out_of_range' then quantity_raw
            when quarantine_rule in ('unparseable_date', 'date_out_of_range') then sold_at_raw
            when quarantine_rule = 'impossible_amount' and unit_price >= 0
                then discount_amount_raw
            when quarantine_rule in ('impossible_amount', 'amount_out_of_range') then unit_price_raw
            when quarantine_rule = 'discount_exceeds_gross' then discount_amount_raw
            {%- for column in ['transaction_id', 'store_code', 'sku', 'payment_method'] %}
            {#- the first value too long, cut to its first 100 characters #}
            when quarantine_rule = 'value_too_long' and {{ is_too_long(column) }}
                then substring({{ column }}, 1, 100)
            {%- endfor %}
            else transaction_id
        end as rejected_value,
        _dlt_load_id,
        _loaded_at
    from sales_lines
)

select * from final
