-- Manual observations (docs/REFERENCE.md, Manual observations CSV), the latest import of an account and day.
with

source as (

    select * from {{ source('lake', 'lake_observations') }}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    select
        -- the importer always sets account_id; rebuild it the registry's way if missing
        coalesce(
            identities.account_id,
            source.account_id,
            source.platform || ':' || lower(trim(ltrim(trim(source.handle), '@')))
        ) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    -- one row per account and key: a day landed under the old handle and the new
    qualify row_number() over (
        partition by coalesce(
            identities.account_id,
            source.account_id,
            source.platform || ':' || lower(trim(ltrim(trim(source.handle), '@')))
        ), source.observed_on
        order by source.imported_at desc nulls last
    ) = 1

),

renamed as (

    select
        -- the importer always sets account_id; rebuild it the registry's way if missing
        coalesce(
            account_id,
            platform || ':' || lower(trim(ltrim(trim(handle), '@')))
        ) as account_id,
        agency_id,
        platform,
        handle,
        observed_on,
        followers,
        posts_total,
        last_post_on,
        note,
        source_file,
        file_sha256,
        row_number as source_row_number,
        imported_at,

    from mapped as source

)

select * from renamed
