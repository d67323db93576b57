{#-
    Pre-hook of int_sales_lines_unioned on an incremental run: deletes the held lines that
    the run will write again or that are no longer sales lines.

    - A POS line whose transaction line silver classified again since the last run: the
      run writes it again when it is still the valid copy, and it stays deleted when a
      correction superseded it, it became a duplicate or it was quarantined.
    - A web line whose order line or order is no longer valid, whose order was cancelled,
      or a return line whose order is no longer returned.
-#}

{% macro delete_withdrawn_sales_lines() -%}
    {%- if is_incremental() and replaces_rows_by_key() -%}
        delete from {{ this }}
        where (
            channel = 'store'
            and exists (
                select 1
                from {{ ref('base_sales__sales_lines') }} as classified
                where classified._built_at > (select max(held._built_at) from {{ this }} as held)
                    and classified.transaction_id = {{ this.identifier }}.transaction_id
                    and classified.line_number = {{ this.identifier }}.line_number
            )
        )
        or (
            channel = 'online'
            and not exists (
                select 1
                from {{ ref('stg_erp__order_lines') }} as order_lines
                inner join {{ ref('stg_erp__orders') }} as orders
                    on order_lines.order_id = orders.order_id
                where order_lines.order_line_id = {{ this.identifier }}.order_line_id
                    and orders.order_status <> 'cancelled'
                    and (
                        orders.order_status = 'returned'
                        or not {{ is_true(this.identifier ~ '.is_return') }}
                    )
            )
        )
    {%- endif -%}
{%- endmacro %}
