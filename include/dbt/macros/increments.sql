{#
    Incremental builds (docs/REFERENCE.md, Warehouse, "Incremental builds").

    `agency-pulse build` after a full load runs dbt with --full-refresh: every model is
    recomputed from all its input. After an incremental load (only new lake files read)
    the incremental models update only what the new rows can change:
    `quality.build_changes` lists those rows (and the loaded rows they replaced), and
    `quality.build_scope` turns them into the first day each account's periods must be
    recomputed from.
#}

{# dbt's is_incremental(), without asking the database when the run recomputes everything
   (--full-refresh: the full builds, and the compiled SQL of warehouse.run_models). #}
{% macro is_incremental() %}
    {% if not execute or should_full_refresh() %}
        {{ return(false) }}
    {% endif %}
    {{ return(dbt.is_incremental()) }}
{% endmacro %}

{# The rows of quality.build_changes of `datasets`, under the account each belongs to today. #}
{% macro changed_rows(datasets) %}
    select
        coalesce(identities.account_id, changes.account_id) as account_id,
        changes.dataset,
        changes.platform,
        changes.post_id,
        changes.day,
        changes.from_day,
    from {{ source('quality', 'build_changes') }} as changes
    left join {{ ref('stg_lake__account_identities') }} as identities
        on changes.account_id = identities.lake_account_id
    where changes.dataset in (
        {%- for dataset in datasets %}'{{ dataset }}'{{ ", " if not loop.last }}{% endfor -%}
    )
        and changes.account_id is not null
{% endmacro %}

{# One post across handle changes: a Telegram post id is "channel/number", the number alone
   is the message. #}
{% macro post_key(platform, post_id) -%}
    case
        when {{ platform }} = 'telegram'
            then coalesce(nullif(regexp_extract({{ post_id }}, '/(\d+)$', 1), ''), {{ post_id }})
        else {{ post_id }}
    end
{%- endmacro %}

{# The first day whose periods `account_expr` must recompute: its own from quality.build_scope,
   else the day of the running period the last build closed. #}
{% macro recompute_from(account_expr) -%}
    coalesce(
        (
            select scope.from_day from {{ ref('build_scope') }} as scope
            where scope.account_id = {{ account_expr }}
        ),
        (select scope.from_day from {{ ref('build_scope') }} as scope where scope.account_id is null)
    )
{%- endmacro %}

{# pre-hook of the per-period models: drop the periods ending on or after the account's
   first day to recompute (they are inserted again by the model's query). #}
{% macro delete_periods_to_recompute() %}
    {% if is_incremental() %}
        delete from {{ this }}
        where period_end >= {{ recompute_from(this ~ '.account_id') }}
    {% endif %}
{% endmacro %}

{# pre-hook of int_account_daily_followers and int_account_post_reads: drop the account days
   whose lake rows changed (inserted again by the model's query). #}
{% macro delete_changed_days(day_column, datasets) %}
    {% if is_incremental() %}
        delete from {{ this }}
        using ({{ changed_rows(datasets) }}) as changed
        where {{ this }}.account_id = changed.account_id
            and {{ this }}.{{ day_column }} = changed.day
    {% endif %}
{% endmacro %}

{# pre-hook of int_agency_period_metrics: drop every agency period ending on or after the
   earliest day any account recomputes. #}
{% macro delete_agency_periods_to_recompute() %}
    {% if is_incremental() %}
        delete from {{ this }}
        where cast(
            period_start
            + case grain when 'month' then interval 1 month else interval 1 year end
            as date
        ) - 1 >= (select min(from_day) from {{ ref('build_scope') }})
    {% endif %}
{% endmacro %}

{# The account months quality.figure_sources recomputes: those of the changed snapshots,
   posts and observations, and of the posts fetched on a changed extract log day. #}
{% macro changed_figure_months() %}
    select distinct
        account_id,
        cast(date_trunc('month', day) as date) as month,
    from ({{ changed_rows(['account_snapshots', 'posts', 'observations', 'extract_log']) }})

    union

    select distinct
        coalesce(identities.account_id, posts.account_id) as account_id,
        cast(date_trunc('month', posts.published_at at time zone 'UTC') as date) as month,
    from {{ source('lake', 'lake_posts') }} as posts
    left join {{ ref('stg_lake__account_identities') }} as identities
        on posts.account_id = identities.lake_account_id
    where posts.fetched_on >= (
        select min(day) from {{ source('quality', 'build_changes') }}
        where dataset = 'extract_log'
    )
        and (posts.account_id, posts.fetched_on) in (
            select (account_id, day) from {{ source('quality', 'build_changes') }}
            where dataset = 'extract_log'
        )
{% endmacro %}

{# pre-hook of quality.figure_sources: drop the account months to recompute. #}
{% macro delete_changed_figure_months() %}
    {% if is_incremental() %}
        delete from {{ this }}
        using ({{ changed_figure_months() }}) as changed
        where {{ this }}.account_id = changed.account_id
            and {{ this }}.month = changed.month
    {% endif %}
{% endmacro %}

{# The date `query` returns (one row, one column), as a SQL date literal read when the model
   runs: a constant lets DuckDB push the filter through the staging views' windows and skip
   row groups by their min/max, which a subquery does not. The date comes from the
   warehouse's own tables, never from user input. NULL (nothing changed): a day after all
   data. #}
{% macro day_literal(query) %}
    {%- if not execute -%}
        {{ return("date '9999-12-31'") }}
    {%- endif -%}
    {%- set day = run_query(query).columns[0].values()[0] -%}
    {{ return("date '" ~ (day if day is not none else '9999-12-31') ~ "'") }}
{% endmacro %}
