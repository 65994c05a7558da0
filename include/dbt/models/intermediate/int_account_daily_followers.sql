-- One follower figure per account and day: manual observation > API snapshot > history point.
-- Incremental: the account days whose lake rows changed are recomputed (macros/increments.sql).
{%- set datasets = ['account_snapshots', 'follower_history', 'observations'] %}
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_days('observed_on', " ~ datasets ~ ") }}",
) }}
with

snapshots as (

    select * from {{ ref('stg_lake__account_snapshots') }}

),

observations as (

    select * from {{ ref('stg_lake__observations') }}

),

history as (

    select * from {{ ref('stg_lake__follower_history') }}

),

{% if is_incremental() %}
{%- set first_changed = day_literal('select min(day) from (' ~ changed_rows(datasets) ~ ')') %}
changed as (

    select distinct account_id, day from ({{ changed_rows(datasets) }})

),

{% endif %}

candidates as (

    select
        account_id,
        observed_on,
        followers,
        'manual' as source,
        1 as precedence,
    from observations
    where followers is not null
    {%- if is_incremental() %}
        and observed_on >= {{ first_changed }}
    {%- endif %}

    union all

    select
        account_id,
        snapshot_date as observed_on,
        followers,
        'snapshot' as source,
        2 as precedence,
    from snapshots
    -- a snapshot without a count (hidden, not given) is no observation
    where followers is not null
    {%- if is_incremental() %}
        and snapshot_date >= {{ first_changed }}
    {%- endif %}

    union all

    select
        account_id,
        history_day as observed_on,
        followers,
        'history' as source,
        3 as precedence,
    from history
    where followers is not null
    {%- if is_incremental() %}
        and history_day >= {{ first_changed }}
    {%- endif %}

),

final as (

    select
        account_id,
        observed_on,
        followers,
        source,
    from candidates
    {%- if is_incremental() %}
    semi join changed
        on candidates.account_id = changed.account_id
        and candidates.observed_on = changed.day
    {%- endif %}
    where account_id is not null
        and observed_on is not null
    qualify row_number() over (
        partition by account_id, observed_on
        order by precedence, followers desc
    ) = 1

)

select * from final
