"""The project's own tooling, beside the platform: the demo quickstart, the benchmark, the
docs-site server. Tools use ``ingestion`` (and dbt); ``ingestion`` never imports a tool."""
