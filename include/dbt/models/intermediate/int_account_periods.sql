-- One row per account and period (calendar month and year, UTC) with any observation or
-- post. evaluation_day is the day activity is judged at: the period's last day, or the
-- latest observation day overall for the running period. The owner is the registry entry
-- owning the account in the period (the later one if it changed hands), else the nearest.
-- Incremental: each account's periods ending on or after its first day to recompute
-- (quality.build_scope) are computed again: months from their days, years from their
-- months (the stored ones and the new).
-- depends_on: {{ ref('build_scope') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_periods_to_recompute() }}",
) }}
with

daily_followers as (

    select * from {{ ref('int_account_daily_followers') }}

),

posts as (

    select * from {{ ref('int_account_posts') }}

),

owners as (

    select * from {{ ref('int_account_owners') }}

),

grains as (

    select grain from (values ('month'), ('year')) as grains (grain)

),

{% if is_incremental() %}
{%- set first_month = day_literal("select cast(date_trunc('month', min(from_day)) as date) from " ~ ref('build_scope')) %}
{%- set first_year = day_literal("select cast(date_trunc('year', min(from_day)) as date) from " ~ ref('build_scope')) %}
{% endif %}

activity_days as (

    select account_id, observed_on as activity_day, from daily_followers
    {%- if is_incremental() %}
    where observed_on >= {{ first_month }}
    {%- endif %}
    union
    select account_id, published_on as activity_day, from posts
    {%- if is_incremental() %}
    where published_on >= {{ first_month }}
    {%- endif %}

),

latest_observation as (

    select max(observed_on) as latest_observation_day from daily_followers

),

periods as (

    select distinct
        activity_days.account_id,
        grains.grain,
        cast(date_trunc(grains.grain, activity_days.activity_day) as date) as period_start,
    from activity_days
    cross join grains
    {%- if is_incremental() %}

    union

    -- a year with a stored month is a year of the account's (the days of those months
    -- are not read again)
    select distinct
        account_id,
        'year' as grain,
        cast(date_trunc('year', period_start) as date) as period_start,
    from {{ this }}
    where grain = 'month'
        and period_start >= {{ first_year }}
    {%- endif %}

),

bounded_periods as (

    select
        account_id,
        grain,
        period_start,
        cast(
            period_start
            + case grain when 'month' then interval 1 month else interval 1 year end
            as date
        ) - 1 as period_end,
    from periods

),

evaluated_periods as (

    select
        bounded_periods.*,
        case
            when latest_observation.latest_observation_day
                between bounded_periods.period_start and bounded_periods.period_end
                then latest_observation.latest_observation_day
            else bounded_periods.period_end
        end as evaluation_day,
    from bounded_periods
    cross join latest_observation

),

owned_periods as (

    select
        evaluated_periods.*,
        owners.agency_id,
        owners.platform,
        owners.handle,
    from evaluated_periods
    left join owners
        on evaluated_periods.account_id = owners.account_id
    qualify row_number() over (
        partition by evaluated_periods.account_id, evaluated_periods.grain,
            evaluated_periods.period_start
        order by
            case
                when coalesce(owners.owned_from, date '0001-01-01') <= evaluated_periods.period_end
                    and coalesce(owners.owned_to, date '9999-12-31') >= evaluated_periods.period_start
                    then 0
                when owners.owned_from > evaluated_periods.period_end
                    then owners.owned_from - evaluated_periods.period_end
                else evaluated_periods.period_start - owners.owned_to
            end,
            owners.owned_from desc nulls last,
            owners.agency_id
    ) = 1

),

final as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        grain,
        period_start,
        period_end,
        evaluation_day,
    from owned_periods
    {%- if is_incremental() %}
    where period_end >= {{ recompute_from('owned_periods.account_id') }}
    {%- endif %}

)

select * from final
