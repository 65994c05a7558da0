-- One follower figure per account and day: manual observation > API snapshot > history point.
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

candidates as (

    select
        account_id,
        observed_on,
        followers,
        'manual' as source,
        1 as precedence,
    from observations
    where followers is not null

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

    union all

    select
        account_id,
        history_day as observed_on,
        followers,
        'history' as source,
        3 as precedence,
    from history
    where followers is not null

),

final as (

    select
        account_id,
        observed_on,
        followers,
        source,
    from candidates
    where account_id is not null
        and observed_on is not null
    qualify row_number() over (
        partition by account_id, observed_on
        order by precedence, followers desc
    ) = 1

)

select * from final
