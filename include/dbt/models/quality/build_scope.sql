-- The first day each account's periods are recomputed from in an incremental build
-- (macros/increments.sql): the earliest day its changed lake rows can move a figure, or
-- every period when what the account's posts give at all (engagement, live counts,
-- tracking) changed, or the account is no longer in the registry (new rows may change the
-- owner it was last seen with). The row with a NULL account_id holds the day for every other account:
-- the running period the previous build closed, and the new one.
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{%- set stored_metrics = none if flags.FULL_REFRESH or not execute else adapter.get_relation(
    database=this.database, schema='core', identifier='int_account_period_metrics') %}
with

changes as (

    {{ changed_rows(['account_snapshots', 'follower_history', 'observations', 'extract_log', 'posts']) }}

),

daily_followers as (

    select * from {{ ref('int_account_daily_followers') }}

),

post_facts as (

    select * from {{ ref('int_account_post_facts') }}

),

post_tracking as (

    select * from {{ ref('int_account_post_tracking') }}

),

running as (

    select least(
        (
            select min(day) from {{ source('quality', 'build_changes') }}
            where dataset = 'latest_observation'
        ),
        (select max(observed_on) from daily_followers)
    ) as from_day

),

facts as (

    select
        coalesce(post_facts.account_id, post_tracking.account_id) as account_id,
        post_facts.gives_engagement,
        post_facts.gives_live,
        post_tracking.account_id is not null as is_tracked,
    from post_facts
    full join post_tracking
        on post_facts.account_id = post_tracking.account_id

),

{% if stored_metrics is not none %}
-- accounts whose account-wide facts differ from those their stored periods were built with
changed_facts as (

    select stored.account_id
    from (
        select
            account_id,
            any_value(gives_engagement) as gives_engagement,
            any_value(gives_live) as gives_live,
            any_value(is_tracked) as is_tracked,
        from {{ stored_metrics }}
        group by all
    ) as stored
    left join facts
        on stored.account_id = facts.account_id
    where coalesce(facts.gives_engagement, true) is distinct from stored.gives_engagement
        or coalesce(facts.gives_live, true) is distinct from stored.gives_live
        or coalesce(facts.is_tracked, false) is distinct from stored.is_tracked

),
{% else %}
changed_facts as (

    select account_id from facts where false

),
{% endif %}

accounts as (

    select account_id, from_day, from changes

    union all

    select account_id, date '0001-01-01' as from_day, from changed_facts

    union all

    -- an account the registry no longer lists keeps the owner it was last seen with: new
    -- rows may change it, and with it every period
    select account_id, date '0001-01-01' as from_day, from changes
    where account_id not in (select account_id from {{ ref('stg_registry__accounts') }})

),

final as (

    select
        account_id,
        least(min(from_day), (select from_day from running)) as from_day,
    from accounts
    where account_id is not null
    group by all

    union all

    select
        null as account_id,
        coalesce((select from_day from running), date '0001-01-01') as from_day,

)

select * from final
