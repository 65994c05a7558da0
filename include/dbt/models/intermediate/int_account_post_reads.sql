-- One row per account and extract run day: did the run read the account's posts? An ok run
-- did, unless the extractor said they cannot be read (a Telegram channel without a public
-- preview logs "ok" for its count with "posts not tracked"); a failed, gone, private or skipped run
-- did not, unless it replaced an ok run of the same day ("earlier that day: ok" in its reason). Days whose runs read no posts are days without post tracking (docs/REFERENCE.md, Warehouse).
-- Incremental: the account days whose extract log rows changed are recomputed.
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_days('run_date', ['extract_log']) }}",
) }}
with

extract_log as (

    select * from {{ ref('stg_lake__extract_log') }}

),

{% if is_incremental() %}
changed as (

    select distinct account_id, day from ({{ changed_rows(['extract_log']) }})

),
{% endif %}

runs as (

    select
        account_id,
        run_date,
        (
            extract_status = 'ok'
            -- a rerun found it gone or private after an ok run of the day had read it
            or coalesce(extract_reason, '') ilike '%earlier that day: ok%'
        )
        and not (
            coalesce(extract_reason, '') ilike '%posts not tracked%'
            or coalesce(extract_reason, '') ilike '%no public preview%'
        ) as read_posts,
    from extract_log
    {%- if is_incremental() %}
    semi join changed
        on extract_log.account_id = changed.account_id
        and extract_log.run_date = changed.day
    {%- endif %}
    where account_id is not null
        and run_date is not null
        {%- if is_incremental() %}
        and run_date >= {{ day_literal('select min(day) from (' ~ changed_rows(['extract_log']) ~ ')') }}
        {%- endif %}

),

final as (

    select
        account_id,
        run_date,
        bool_or(read_posts) as read_posts,
    from runs
    group by all

)

select * from final
