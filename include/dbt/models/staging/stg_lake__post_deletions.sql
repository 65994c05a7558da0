-- Posts seen before and no longer returned by the platform.
with

source as (

    select * from {{ source('lake', 'lake_post_deletions') }}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    select
        coalesce(identities.account_id, source.account_id) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id

),

renamed as (

    select
        account_id,
        platform,
        post_id,
        last_seen_on,
        detected_on as deletion_detected_on,

    from mapped as source

)

select * from renamed
