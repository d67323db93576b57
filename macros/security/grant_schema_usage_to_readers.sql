{#-
    dbt's `grants` config grants `select` on each relation it builds (gold: dbt_project.yml),
    but a reader also needs `usage` on the schema. This on-run-end hook grants it to every
    role that holds a `select` grant in the project, on the schemas this run built, so the BI
    role keeps its access across rebuilds. Identifiers are quoted.
-#}

{% macro grant_schema_usage_to_readers(built_schemas) -%}
    {%- if execute -%}
        {%- set statements = [] -%}
        {%- for node in graph.nodes.values() if node.schema in built_schemas -%}
            {%- for role in (node.config.get('grants') or {}).get('select') or [] -%}
                {%- set statement = 'grant usage on schema ' ~ adapter.quote(node.schema) ~ ' to ' ~ adapter.quote(role) -%}
                {%- if statement not in statements -%}
                    {%- do statements.append(statement) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {{ statements | join(';\n') }}
    {%- endif -%}
{%- endmacro %}
