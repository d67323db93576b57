{#-
    One row of data-quality scores for one silver table, as a select that can be unioned:
      completeness  share of non-null values over the required columns
      uniqueness    distinct keys / rows
      validity      share of rows that pass the table's validity rule
    An empty table scores 1 on every measure (nothing in it is wrong).
-#}
{% macro dq_table_scores(model_name, key_column, required_columns, validity_rule) -%}
    {%- set non_null_terms = [] -%}
    {%- for column in required_columns -%}
        {%- do non_null_terms.append("sum(case when " ~ column ~ " is not null then 1 else 0 end)") -%}
    {%- endfor %}
    select
        '{{ model_name }}' as table_name,
        count(*) as row_count,
        cast(
            case
                when count(*) = 0 then 1
                else {{ divide_rounded(non_null_terms | join(' + '), 'count(*) * ' ~ (required_columns | length), 4) }}
            end
            as {{ type_ratio() }}
        ) as completeness,
        cast(
            case
                when count(*) = 0 then 1
                else {{ divide_rounded('count(distinct ' ~ key_column ~ ')', 'count(*)', 4) }}
            end
            as {{ type_ratio() }}
        ) as uniqueness,
        cast(
            case
                when count(*) = 0 then 1
                else {{ divide_rounded('sum(case when ' ~ validity_rule ~ ' then 1 else 0 end)', 'count(*)', 4) }}
            end
            as {{ type_ratio() }}
        ) as validity
    from {{ ref(model_name) }}
{%- endmacro %}
