-- out_slicc_monthly: slicc_monthly.csv, the full practice x calendar-month grid of the window;
-- slicc blank where the month has no GP contacts of named-GP patients (missing, never zero).
SELECT group_code AS practice_code, month_start AS month,
       CASE WHEN slicc_denominator > 0
            THEN CAST(slicc_numerator AS DOUBLE) / slicc_denominator END AS slicc,
       slicc_numerator, slicc_denominator
FROM group_named_gp_monthly
WHERE level = 'practice'
ORDER BY practice_code, month
