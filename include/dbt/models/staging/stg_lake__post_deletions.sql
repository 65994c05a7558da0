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
    {{ current_account_rows() }}

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
