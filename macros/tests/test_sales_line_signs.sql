{#-
    Signs of a sales fact: a sale sells at least one unit for a net amount of zero or more,
    a return takes back at least one unit (negative quantity). Returns the lines that break
    this, with the reason.
-#}
{% test sales_line_signs(model) %}

with

lines as (
    select
        quantity,
        net_amount,
        case when {{ is_true('is_return') }} then 1 else 0 end as is_return_line
    from {{ model }}
),

failures as (
    select
        quantity,
        net_amount,
        case
            when is_return_line = 1 and quantity > -1 then 'return_without_negative_quantity'
            when is_return_line = 0 and quantity < 1 then 'sale_without_positive_quantity'
            when is_return_line = 0 and net_amount < 0 then 'sale_with_negative_net_amount'
        end as failure
    from lines
)

select * from failures
where failure is not null

{% endtest %}
