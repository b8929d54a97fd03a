-- out_slicc_inferred_monthly: slicc_inferred_monthly.csv, SLICC against the inferred regular GP
-- (group_inferred_gp_monthly.sql; the inferred variant, not SLICC) for the full practice x
-- calendar-month grid of the window; blank where no patient with an inferred GP had a GP contact
-- that month (missing, never zero). It reads high in an extract's first months (little history).
SELECT group_code AS practice_code, month_start AS month,
       CASE WHEN slicc_inferred_denominator > 0
            THEN CAST(slicc_inferred_numerator AS DOUBLE) / slicc_inferred_denominator
       END AS slicc_inferred,
       slicc_inferred_numerator, slicc_inferred_denominator, gp_contacts
FROM group_inferred_gp_monthly
WHERE level = 'practice'
ORDER BY practice_code, month
