-- group_rolling_upc: rolling 12-month UPC per group and window month, for SPC charts of a
-- practice, a named-GP list (subgroup = the patients' named GP) and every practice-derived area
-- (PCN, sub-ICB, ICB, all, practice deprivation quintile).
-- upc_mean: mean of eligible patients' UPC (with its standard deviation, for intervals);
-- upc_pooled = sum max_j n_j / sum N. Areas are summed from patients, never means of means.
-- Every group key x month gets a row: a month without eligible patients is blank, never zero.
-- Successive points share 11 of their 12 months, so they are autocorrelated: SPC rules on this
-- series flag sustained change, and a single point outside the limits means less than usual.
WITH patient_rows AS (
    SELECT r.month_start, pp.practice_code, pp.usual_gp_id, r.upc, r.max_n, r.contacts,
           r.history_months
    FROM patient_rolling_upc r
    JOIN patient_practice pp ON pp.patient_id = r.patient_id
),
by_practice AS (
    SELECT practice_code, month_start, count(*) AS eligible_patients,
           sum(upc) AS upc_sum, sum(upc * upc) AS upc_sum_squares,
           CAST(sum(max_n) AS BIGINT) AS upc_pooled_numerator,
           CAST(sum(contacts) AS BIGINT) AS upc_pooled_denominator,
           max(history_months) AS history_months
    FROM patient_rows
    GROUP BY practice_code, month_start
),
by_group AS (
    SELECT g.level, g.group_code, '' AS subgroup, b.month_start,
           sum(b.eligible_patients) AS eligible_patients, sum(b.upc_sum) AS upc_sum,
           sum(b.upc_sum_squares) AS upc_sum_squares,
           sum(b.upc_pooled_numerator) AS upc_pooled_numerator,
           sum(b.upc_pooled_denominator) AS upc_pooled_denominator,
           max(b.history_months) AS history_months
    FROM by_practice b
    JOIN practice_groups g ON g.practice_code = b.practice_code
    GROUP BY g.level, g.group_code, b.month_start
    UNION ALL
    SELECT 'gp_list', practice_code, usual_gp_id, month_start, count(*), sum(upc),
           sum(upc * upc), sum(max_n), sum(contacts), max(history_months)
    FROM patient_rows
    WHERE usual_gp_id IS NOT NULL
    GROUP BY practice_code, usual_gp_id, month_start
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
