{#
    The rows of a lake source (CTE `source`) under the account each belongs to today
    (CTE `identities`: stg_lake__account_identities): a row landed under a former handle
    counts for the account under its current handle. With `key`, one row per account and
    key is kept, the first by `latest_first` (a day landed under the old handle and the new
    counts once). `account_id`: the expression of the row's own account id.
#}
{% macro current_account_rows(key=none, latest_first=none, account_id='source.account_id') %}
    select
        coalesce(identities.account_id, {{ account_id }}) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    {%- if key %}
    qualify row_number() over (
        partition by coalesce(identities.account_id, {{ account_id }}), {{ key }}
        order by {{ latest_first }}
    ) = 1
    {%- endif %}
{% endmacro %}
