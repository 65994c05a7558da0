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
    -- the importer always sets account_id; rebuild it the registry's way if missing
    {{ current_account_rows(
        key='source.observed_on',
        latest_first='source.imported_at desc nulls last',
        account_id="coalesce(source.account_id, source.platform || ':' || lower(trim(ltrim(trim(source.handle), '@'))))",
    ) }}

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
