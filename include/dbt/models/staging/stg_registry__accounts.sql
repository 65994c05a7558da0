-- Accounts of the registry; one account may pass between agencies over time.
with

source as (

    select * from {{ source('registry', 'accounts') }}

),

renamed as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        platform_id,
        label,
        active_from as owned_from,
        active_to as owned_to,
        verified,

    from source

)

select * from renamed
