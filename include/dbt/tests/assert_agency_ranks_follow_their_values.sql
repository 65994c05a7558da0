-- Contract (docs/REFERENCE.md, Ranks): a rank is NULL exactly when its value is NULL, and
-- 1 + the number of agencies of the period with a larger value (ties share a rank).
-- Rows returned break the rule.
{% for mart, period in [('agency_monthly', 'month'), ('agency_annual', 'year')] %}
select '{{ mart }}' as mart, agency_id, rank_followers, rank_growth
from {{ ref(mart) }} as agency
where (rank_followers is null) <> (followers_end is null)
    or (rank_growth is null) <> (followers_growth_pct is null)
    or rank_followers <> 1 + (
        select count(*) from {{ ref(mart) }} as other
        where other.{{ period }} = agency.{{ period }}
            and other.followers_end > agency.followers_end)
    or rank_growth <> 1 + (
        select count(*) from {{ ref(mart) }} as other
        where other.{{ period }} = agency.{{ period }}
            and other.followers_growth_pct > agency.followers_growth_pct)
{% if not loop.last %}union all{% endif %}
{% endfor %}
