-- Which agency an account belongs to, and over which days. Registry accounts first; an
-- account the lake knows but the registry no longer lists keeps the agency, platform and
-- handle it was last seen with, so its history is not lost.
-- Incremental: the registry is unchanged (a changed registry makes a full build); only the
-- lake-only accounts with new lake rows are recomputed, from their own lake rows.
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='account_id',
) }}
with

registry_accounts as (

    select * from {{ ref('stg_registry__accounts') }}

),

snapshots as (

    select * from {{ ref('stg_lake__account_snapshots') }}

),

posts as (

    select * from {{ ref('stg_lake__posts') }}

),

history as (

    select * from {{ ref('stg_lake__follower_history') }}

),

observations as (

    select * from {{ ref('stg_lake__observations') }}

),

extract_log as (

    select * from {{ ref('stg_lake__extract_log') }}

),

{% if is_incremental() %}
-- a lake-only account is never mapped to another: its lake rows are its own, one per key
changed_lake_only as (

    select distinct account_id
    from ({{ changed_rows(['account_snapshots', 'posts', 'follower_history', 'observations', 'extract_log']) }})
    where account_id not in (select account_id from registry_accounts)

),

sightings as (

    select account_id, agency_id, platform, handle, fetched_at as seen_at,
    from {{ source('lake', 'lake_account_snapshots') }} semi join changed_lake_only using (account_id)
    union all
    select account_id, agency_id, platform, null as handle, fetched_at as seen_at,
    from {{ source('lake', 'lake_posts') }} semi join changed_lake_only using (account_id)
    union all
    select account_id, agency_id, platform, null as handle, fetched_at as seen_at,
    from {{ source('lake', 'lake_follower_history') }} semi join changed_lake_only using (account_id)
    union all
    select account_id, agency_id, platform, handle, imported_at as seen_at,
    from {{ source('lake', 'lake_observations') }} semi join changed_lake_only using (account_id)
    union all
    select account_id, agency_id, platform, handle, logged_at as seen_at,
    from {{ source('lake', 'lake_extract_log') }} semi join changed_lake_only using (account_id)

),
{% else %}
sightings as (

    select account_id, agency_id, platform, handle, fetched_at as seen_at, from snapshots
    union all
    select account_id, agency_id, platform, null as handle, fetched_at as seen_at, from posts
    union all
    select account_id, agency_id, platform, null as handle, fetched_at as seen_at, from history
    union all
    select account_id, agency_id, platform, handle, imported_at as seen_at, from observations
    union all
    select account_id, agency_id, platform, handle, logged_at as seen_at, from extract_log

),
{% endif %}

lake_only_accounts as (

    select
        account_id,
        arg_max(agency_id, seen_at) filter (where agency_id is not null) as agency_id,
        coalesce(
            arg_max(platform, seen_at) filter (where platform is not null),
            split_part(account_id, ':', 1)
        ) as platform,
        coalesce(
            arg_max(handle, seen_at) filter (where handle is not null),
            substr(account_id, strpos(account_id, ':') + 1)
        ) as handle,
    from sightings
    where account_id is not null
        and account_id not in (select account_id from registry_accounts)
    group by account_id

),

final as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        owned_from,
        owned_to,
        true as in_registry,
    from registry_accounts
    {%- if is_incremental() %}
    where false
    {%- endif %}

    union all

    select
        account_id,
        agency_id,
        platform,
        handle,
        null::date as owned_from,
        null::date as owned_to,
        false as in_registry,
    from lake_only_accounts

)

select * from final
