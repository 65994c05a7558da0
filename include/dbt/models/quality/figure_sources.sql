-- Where each account's figures of a month came from (docs/REFERENCE.md, quality.figure_sources):
-- a daily snapshot or a post takes the source its extract run logged (`api` or `sandbox`;
-- `unknown` when the run's log row does not say), a manual observation is `observation`.
-- Readers (the report, the UI pages, the run summary) mark sandbox figures from this table,
-- so the mark follows the data, never a setting.
-- Incremental: the account months a changed lake row can touch are recomputed (a changed
-- extract log day touches the months of the posts fetched that day).
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_figure_months() }}",
) }}
with

{% if is_incremental() %}
{%- set first_month = day_literal('select min(month) from (' ~ changed_figure_months() ~ ')') %}
changed_months as (

    {{ changed_figure_months() }}

),

{% endif %}

extract_runs as (

    select account_id, run_date, figure_source
    from {{ ref('stg_lake__extract_log') }}
    {%- if is_incremental() %}
    where run_date >= {{ first_month }}
    {%- endif %}

),

snapshot_days as (

    select
        snapshots.account_id,
        snapshots.agency_id,
        snapshots.platform,
        snapshots.snapshot_date as day,
        coalesce(extract_runs.figure_source, 'unknown') as source,

    from {{ ref('stg_lake__account_snapshots') }} as snapshots
    left join extract_runs
        on extract_runs.account_id = snapshots.account_id
        and extract_runs.run_date = snapshots.snapshot_date
    {%- if is_incremental() %}
    where snapshots.snapshot_date >= {{ first_month }}
    {%- endif %}

),

-- A post counts in the month it was published, from the run that fetched it last.
post_days as (

    select
        posts.account_id,
        posts.agency_id,
        posts.platform,
        posts.published_on as day,
        coalesce(extract_runs.figure_source, 'unknown') as source,

    {%- if is_incremental() %}
    from (
        {{ lake_posts("published_at >= cast(" ~ first_month ~ " - 1 as timestamp) at time zone 'UTC'") }}
    ) as posts
    {%- else %}
    from {{ ref('stg_lake__posts') }} as posts
    {%- endif %}
    left join extract_runs
        on extract_runs.account_id = posts.account_id
        and extract_runs.run_date = posts.fetched_on

),

observation_days as (

    select
        account_id,
        agency_id,
        platform,
        observed_on as day,
        'observation' as source,

    from {{ ref('stg_lake__observations') }}
    {%- if is_incremental() %}
    where observed_on >= {{ first_month }}
    {%- endif %}

),

figure_days as (

    select * from snapshot_days
    union all
    select * from post_days
    union all
    select * from observation_days

)

select
    account_id,
    any_value(agency_id) as agency_id,
    any_value(platform) as platform,
    cast(date_trunc('month', day) as date) as month,
    source,
    count(distinct day) as days,

from figure_days
{%- if is_incremental() %}
semi join changed_months
    on figure_days.account_id = changed_months.account_id
    and cast(date_trunc('month', figure_days.day) as date) = changed_months.month
{%- endif %}
where day is not null
group by account_id, cast(date_trunc('month', day) as date), source
order by account_id, month, source
