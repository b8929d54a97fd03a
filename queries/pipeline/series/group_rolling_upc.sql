-- group_rolling_upc: rolling 12-month UPC per group and window month, for SPC charts of a
-- practice, a named-GP list (subgroup = the patients' named GP) and every practice-derived area
-- (PCN, sub-ICB, ICB, all, practice deprivation quintile).
-- upc_mean: mean of eligible patients' UPC (with its standard deviation, for intervals);
-- upc_pooled = sum max_j n_j / sum N. Areas are summed from patients, never means of means.
-- Every group key x month gets a row: a month without eligible patients is blank, never zero.
-- Successive points share 11 of their 12 months, so they are autocorrelated: SPC rules on this
-- series flag sustained change, and a single point outside the limits means less than usual.
-- history_months: how many of a month's 12 lie on or after the practice's first counted contact
-- (practice_first_month), so a chart can mark windows short of history: a practice's first
-- months in the data read high. A group's is its practices' largest.
WITH practice_history AS (
    SELECT f.practice_code, m.month_start,
           CAST(least(12, m.month_number - f.month_number + 1) AS BIGINT) AS history_months
    FROM practice_first_month f
    CROSS JOIN months m
),
-- Lists are summed from patients already (list_rolling_upc): a practice is the sum of its lists,
-- a named-GP list is one of them as it is. The history joins those sums.
by_practice AS (
    SELECT practice_code, month_start, sum(eligible_patients) AS eligible_patients,
           sum(upc_sum) AS upc_sum, sum(upc_sum_squares) AS upc_sum_squares,
           sum(upc_pooled_numerator) AS upc_pooled_numerator,
           sum(upc_pooled_denominator) AS upc_pooled_denominator
    FROM list_rolling_upc
    GROUP BY practice_code, month_start
),
by_group AS (
    SELECT g.level, g.group_code, '' AS subgroup, b.month_start,
           sum(b.eligible_patients) AS eligible_patients, sum(b.upc_sum) AS upc_sum,
           sum(b.upc_sum_squares) AS upc_sum_squares,
           sum(b.upc_pooled_numerator) AS upc_pooled_numerator,
           sum(b.upc_pooled_denominator) AS upc_pooled_denominator,
           max(h.history_months) AS history_months
    FROM by_practice b
    JOIN practice_groups g ON g.practice_code = b.practice_code
    LEFT JOIN practice_history h
      ON h.practice_code = b.practice_code AND h.month_start = b.month_start
    GROUP BY g.level, g.group_code, b.month_start
    UNION ALL
    SELECT 'gp_list', l.practice_code, l.usual_gp_id, l.month_start, l.eligible_patients,
           l.upc_sum, l.upc_sum_squares, l.upc_pooled_numerator, l.upc_pooled_denominator,
           h.history_months
    FROM list_rolling_upc l
    LEFT JOIN practice_history h
      ON h.practice_code = l.practice_code AND h.month_start = l.month_start
    WHERE l.usual_gp_id IS NOT NULL
)
SELECT k.level, k.group_code, k.subgroup, m.month_start,
       CAST(coalesce(s.eligible_patients, 0) AS BIGINT) AS eligible_patients,
       s.upc_sum / s.eligible_patients AS upc_mean,
       CASE WHEN s.eligible_patients > 1
            THEN sqrt(greatest((s.upc_sum_squares - s.upc_sum * s.upc_sum / s.eligible_patients)
                               / (s.eligible_patients - 1), 0)) END AS upc_sd,
       CAST(coalesce(s.upc_pooled_numerator, 0) AS BIGINT) AS upc_pooled_numerator,
       CAST(coalesce(s.upc_pooled_denominator, 0) AS BIGINT) AS upc_pooled_denominator,
       CAST(s.upc_pooled_numerator AS DOUBLE) / s.upc_pooled_denominator AS upc_pooled,
       s.history_months
FROM group_keys k
CROSS JOIN months m
LEFT JOIN by_group s
  ON s.level = k.level AND s.group_code = k.group_code AND s.subgroup = k.subgroup
 AND s.month_start = m.month_start
WHERE k.level IN ('practice', 'pcn', 'sub_icb', 'icb', 'all', 'practice_imd_quintile', 'gp_list')
