"""The project's dbt conventions, as dbt-score rules (https://dbt-score.picnic.tech).

dbt-score finds this package by its name when it runs from the repository root. Only these
rules are used, and every model, source, snapshot and exposure must pass all of them:

    dbt parse --profiles-dir .
    dbt-score lint --manifest target/manifest.json --namespace dbt_score_rules \
        --fail-project-under 10 --fail-any-item-under 10

| module       | what it checks                                                           |
|--------------|--------------------------------------------------------------------------|
| `models`     | a name prefix per layer, a description and documented columns, at least  |
|              | one data test, an enforced contract in gold, the yml next to the SQL      |
| `sources`    | bronze sources declared and documented in their staging folder            |
| `snapshots`  | `snp_<source>__<entity>` names, unique key and strategy, documentation    |
| `exposures`  | an owner with an email and a description for every dashboard              |
"""
