-- patient_rolling_upc: each patient's UPC over the 12 calendar months ending with each month of
-- the window (continuity-indices.md UPC = max_j n_j / N), for the rolling-UPC SPC chart, from
-- rolling_upc_counts (N and max_j n_j per eligible patient and month; only eligible rows exist).
-- history_months: how many of the 12 months lie on or after the practice's first counted contact
-- (practice_first_month), so a chart can mark windows short of history: a practice's first
-- months in the data read high.
SELECT r.month_start, pk.patient_id,
       CAST(r.contacts AS BIGINT) AS contacts,
       CAST(r.max_n AS BIGINT) AS max_n,
       CAST(r.max_n AS DOUBLE) / r.contacts AS upc,
       CAST(least(12, r.month_number - f.month_number + 1) AS BIGINT) AS history_months
FROM rolling_upc_counts r
JOIN patient_keys pk ON pk.patient_key = r.patient_key
JOIN practice_first_month f ON f.practice_code = pk.practice_code
