{#-
    Pre-hook of int_sales_lines_unioned on an incremental run: deletes the held lines that
    the run will write again or that are no longer sales lines.

    - A POS line whose transaction line silver classified again since the last run: the
      run writes it again when it is still the valid copy, and it stays deleted when a
      correction superseded it, it became a duplicate or it was quarantined.
    - A web line whose order line or order is no longer valid, whose order was cancelled,
      or a return line whose order is no longer returned.

    The lines are found by one select per channel and deleted by key: DuckDB plans a delete
    whose condition is an `or` of two correlated subqueries about twice as slow.
-#}

{% macro delete_withdrawn_sales_lines() -%}
    {%- if is_incremental() and replaces_rows_by_key() -%}
        delete from {{ this }}
        where sales_line_key in (
            select held.sales_line_key
            from {{ this }} as held
            where held.channel = 'store'
                and exists (
                    select 1
                    from {{ ref('base_sales__sales_lines') }} as classified
                    where classified._built_at > (select max(last_run._built_at) from {{ this }} as last_run)
                        and classified.transaction_id = held.transaction_id
                        and classified.line_number = held.line_number
                )

            union all

            select held.sales_line_key
            from {{ this }} as held
            where held.channel = 'online'
                and not exists (
                    select 1
                    from {{ ref('stg_erp__order_lines') }} as order_lines
                    inner join {{ ref('stg_erp__orders') }} as orders
                        on order_lines.order_id = orders.order_id
                    where order_lines.order_line_id = held.order_line_id
                        and orders.order_status <> 'cancelled'
                        and (
                            orders.order_status = 'returned'
                            or not {{ is_true('held.is_return') }}
                        )
                )
        )
    {%- endif -%}
{%- endmacro %}
