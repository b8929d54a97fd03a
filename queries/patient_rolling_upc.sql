-- patient_rolling_upc: each patient's UPC over the 12 calendar months ending with each month of
-- the window (continuity-indices.md UPC = max_j n_j / N), for the rolling-UPC SPC chart.
-- Counts the same contacts as UPC (`counted`: staff group, modes, same-day collapse), including
-- the look-back year so the first months of the window have a full 12 months behind them.
-- Eligible when N >= the minimum; only eligible rows are kept (the index is undefined below it).
-- history_months: how many of the 12 months lie on or after the practice's first counted contact
-- (practice_first_month), so a chart can mark windows short of history: a practice's first
-- months in the data read high.
-- Each month falls in exactly one of a patient's spans per clinician (counted_spans.sql), whose
-- n is n_j for that month: N and max_j n_j are one GROUP BY away. A month's rows depend on that
-- month alone, so the engine may compute the months one at a time (engine.PER_MONTH_STEPS).
WITH window_months AS (
    SELECT month_start, CAST(year(month_start) * 12 + month(month_start) AS INTEGER) AS month_number
    FROM months
),
per_patient AS (
    SELECT w.month_start, w.month_number, s.patient_key,
           CAST(sum(s.n) AS INTEGER) AS contacts, max(s.n) AS max_n
    FROM counted_spans s
    JOIN window_months w ON w.month_number >= s.from_month AND w.month_number < s.to_month
    GROUP BY w.month_start, w.month_number, s.patient_key
    HAVING sum(s.n) >= (SELECT min_contacts FROM run_params)
)
SELECT p.month_start, pk.patient_id,
       CAST(p.contacts AS BIGINT) AS contacts,
       CAST(p.max_n AS BIGINT) AS max_n,
       CAST(p.max_n AS DOUBLE) / p.contacts AS upc,
       CAST(least(12, p.month_number - f.month_number + 1) AS BIGINT) AS history_months
FROM per_patient p
JOIN patient_keys pk ON pk.patient_key = p.patient_key
JOIN practice_first_month f ON f.practice_code = pk.practice_code
