-- patient_rolling_upc: each patient's UPC over the 12 calendar months ending with each month of
-- the window (continuity-indices.md UPC = max_j n_j / N), for the rolling-UPC SPC chart.
-- Counts the same contacts as UPC (`counted`: staff group, modes, same-day collapse), including
-- the look-back year so the first months of the window have a full 12 months behind them.
-- Eligible when N >= the minimum; only eligible rows are kept (the index is undefined below it).
-- history_months: how many of the 12 months lie on or after the practice's first counted contact
-- (looking back at most 12 months before the window's first month), so a chart can mark windows
-- short of history: a practice's first months in the data read high.
--
-- How, without re-reading a year of contacts for every month: a month m's n contacts with a
-- clinician count in the windows ending m .. m+11, so they add n at month m and take it away at
-- m+12. A running sum of those changes per patient and clinician gives n_j for every month up to
-- the next change (`spans`: n_j constant from from_month until to_month, exclusive); each window
-- month falls in exactly one span per clinician, so N and max_j n_j are one GROUP BY away.
WITH window_months AS (
    SELECT month_start, CAST(year(month_start) * 12 + month(month_start) AS INTEGER) AS month_number
    FROM months
),
changes AS (
    SELECT patient_key, clinician_key, month_number, n AS change
    FROM patient_clinician_monthly
    WHERE n > 0
    UNION ALL
    SELECT patient_key, clinician_key, month_number + 12, -n
    FROM patient_clinician_monthly
    WHERE n > 0
),
-- Changes in one month share its running sum (the default frame with ORDER BY is RANGE ...
-- CURRENT ROW: peers included); of two rows in one month, the first spans no months (lead is the
-- same month) and the second spans the rest.
spans AS (
    SELECT patient_key, month_number AS from_month,
           CAST(sum(change) OVER same_pair AS INTEGER) AS n,
           lead(month_number) OVER same_pair AS to_month
    FROM changes
    WINDOW same_pair AS (PARTITION BY patient_key, clinician_key ORDER BY month_number)
),
per_patient AS (
    SELECT w.month_number, s.patient_key, CAST(sum(s.n) AS INTEGER) AS contacts, max(s.n) AS max_n
    FROM spans s
    JOIN window_months w ON w.month_number >= s.from_month AND w.month_number < s.to_month
    WHERE s.n > 0
    GROUP BY w.month_number, s.patient_key
    HAVING sum(s.n) >= (SELECT min_contacts FROM run_params)
),
first_month AS (
    SELECT pk.practice_code, min(m.month_number) AS month_number
    FROM patient_clinician_monthly m
    JOIN patient_keys pk ON pk.patient_key = m.patient_key
    WHERE m.n > 0 AND m.month_number >= (SELECT min(month_number) FROM window_months) - 12
    GROUP BY pk.practice_code
)
SELECT w.month_start, pk.patient_id,
       CAST(p.contacts AS BIGINT) AS contacts,
       CAST(p.max_n AS BIGINT) AS max_n,
       CAST(p.max_n AS DOUBLE) / p.contacts AS upc,
       CAST(least(12, p.month_number - f.month_number + 1) AS BIGINT) AS history_months
FROM per_patient p
JOIN window_months w ON w.month_number = p.month_number
JOIN patient_keys pk ON pk.patient_key = p.patient_key
JOIN first_month f ON f.practice_code = pk.practice_code
