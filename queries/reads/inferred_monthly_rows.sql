-- inferred_monthly_rows: the rows of group_inferred_gp_monthly (SLICC against the inferred
-- regular GP) for one level and some groups, for the dashboard's practice page.
-- {table} is the whitelisted result table (metrics.results.ResultSource.table: the store's
-- result_group_inferred_gp_monthly or a fresh run's group_inferred_gp_monthly).
-- Parameters: level, list of group codes.
SELECT level, group_code, subgroup, month_start, gp_contacts, slicc_inferred_numerator,
       slicc_inferred_denominator
FROM {table}
WHERE level = ? AND list_contains(?, group_code)
ORDER BY group_code, subgroup, month_start
