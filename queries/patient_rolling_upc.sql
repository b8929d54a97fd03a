-- patient_rolling_upc: each patient's UPC over the 12 calendar months ending with each month of
-- the window (continuity-indices.md UPC = max_j n_j / N), for the rolling-UPC SPC chart.
-- Counts the same contacts as UPC (`counted`: staff group, modes, same-day collapse), including
-- the look-back year so the first months of the window have a full 12 months behind them.
-- Eligible when N >= the minimum; only eligible rows are kept (the index is undefined below it).
-- history_months: how many of the 12 months lie on or after the practice's first counted contact
-- (looking back at most 12 months before the window's first month), so a chart can mark windows
-- short of history: a practice's first months in the data read high.
-- Months are numbered year * 12 + month so the range join stays plain integer arithmetic.
WITH monthly AS (
    SELECT practice_code, patient_id, clinician_id,
           year(appointment_date) * 12 + month(appointment_date) AS month_number,
           count(*) AS n
    FROM contacts
    WHERE counted
    GROUP BY practice_code, patient_id, clinician_id,
             year(appointment_date) * 12 + month(appointment_date)
),
window_months AS (
    SELECT month_start, year(month_start) * 12 + month(month_start) AS month_number
    FROM months
),
per_clinician AS (
    SELECT w.month_start, c.practice_code, c.patient_id, c.clinician_id, sum(c.n) AS n
    FROM monthly c
    JOIN window_months w
      ON c.month_number BETWEEN w.month_number - 11 AND w.month_number
    GROUP BY w.month_start, c.practice_code, c.patient_id, c.clinician_id
),
first_month AS (
    SELECT practice_code, min(month_number) AS month_number
    FROM monthly
    WHERE month_number >= (SELECT min(month_number) FROM window_months) - 12
    GROUP BY practice_code
)
SELECT p.month_start, p.patient_id,
       CAST(sum(p.n) AS BIGINT) AS contacts,
       CAST(max(p.n) AS BIGINT) AS max_n,
       CAST(max(p.n) AS DOUBLE) / sum(p.n) AS upc,
       least(12, max(w.month_number) - max(f.month_number) + 1) AS history_months
FROM per_clinician p
JOIN window_months w ON w.month_start = p.month_start
JOIN first_month f ON f.practice_code = p.practice_code
CROSS JOIN run_params rp
GROUP BY p.month_start, p.patient_id
HAVING sum(p.n) >= max(rp.min_contacts)
