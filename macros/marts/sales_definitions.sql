{#-
    The business words the gold marts share, each written once so that every model
    that says "purchase" or "known customer" applies the same rule. The yml of each
    model that uses them states the rule in words.
-#}

{#-
    A purchase is a fct_sales line that is not a return: a POS sale line or a web-shop
    order line (cancelled orders are not sales lines at all). A return is never a
    purchase, even when it is the first line a customer has; it still counts against
    what the customer spent.
-#}
{% macro is_purchase(is_return='is_return') -%}
    (not {{ is_true(is_return) }})
{%- endmacro %}

{#-
    A known customer is one the CRM knows: the line is keyed to a dim_customer version.
    Walk-ins and guests (no customer id) and ids the CRM does not know point at the
    unknown member and are not known customers.
-#}
{% macro is_known_customer(customer_key='customer_key') -%}
    ({{ customer_key }} <> {{ unknown_member_key() }})
{%- endmacro %}
