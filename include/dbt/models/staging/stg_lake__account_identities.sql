-- The account each lake account_id belongs to now (docs/REFERENCE.md, Account identity):
-- one row per lake account_id that the registry knows under another account_id, because
-- the account's handle changed. An account is its platform plus its platform_id: a lake
-- account_id whose snapshots were last seen with the platform_id of a registry account
-- is that account; without a platform_id, a daily run's note "handle changed: old -> new"
-- in the extract log names the new handle (when the registry has it and no longer the old).
with

registry_accounts as (

    select * from {{ source('registry', 'accounts') }}

),

snapshots as (

    select * from {{ source('lake', 'lake_account_snapshots') }}

),

extract_log as (

    select * from {{ source('lake', 'lake_extract_log') }}

),

registry_ids as (

    -- one account per platform id (the same account may sit under two agencies)
    select
        platform,
        platform_id,
        min(account_id) as account_id,

    from registry_accounts
    where platform_id is not null
    group by platform, platform_id

),

lake_ids as (

    -- the platform id each lake account_id was last seen with
    select
        account_id,
        platform,
        arg_max(platform_id, snapshot_date) as platform_id,

    from snapshots
    where platform_id is not null
    group by account_id, platform

),

by_platform_id as (

    select
        lake_ids.account_id as lake_account_id,
        registry_ids.account_id,

    from lake_ids
    inner join registry_ids
        on lake_ids.platform = registry_ids.platform
        and lake_ids.platform_id = registry_ids.platform_id
    where lake_ids.account_id <> registry_ids.account_id

),

noted_changes as (

    select
        account_id as lake_account_id,
        platform || ':' || lower(ltrim(
            regexp_extract(reason, 'handle changed: \S+ -> ([^;\s]+)', 1), '@'
        )) as account_id,
        run_date,

    from extract_log
    where reason like '%handle changed: %'

),

by_noted_change as (

    -- the latest note wins (a handle may change twice before the registry follows)
    select
        lake_account_id,
        arg_max(account_id, run_date) as account_id,

    from noted_changes
    where account_id in (select account_id from registry_accounts)
        and lake_account_id not in (select account_id from registry_accounts)
        and lake_account_id not in (select lake_account_id from by_platform_id)
    group by lake_account_id

),

final as (

    select * from by_platform_id
    union all
    select * from by_noted_change

)

select * from final
