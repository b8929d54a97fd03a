-- patient_rolling_upc: each patient's UPC over the 12 calendar months ending with each month of
-- the window (continuity-indices.md UPC = max_j n_j / N), for the rolling-UPC SPC chart.
-- Counts the same contacts as UPC (`counted`: staff group, modes, same-day collapse), including
-- the look-back year so the first months of the window have a full 12 months behind them.
-- Eligible when N >= the minimum; only eligible rows are kept (the index is undefined below it).
-- history_months: how many of the 12 months lie on or after the practice's first counted contact
-- (looking back at most 12 months before the window's first month), so a chart can mark windows
-- short of history: a practice's first months in the data read high.
-- Months are numbered year * 12 + month so the range join stays plain integer arithmetic, and
-- patients and clinicians get integer keys first: the 12-fold expansion then groups on integers.
WITH clinician_keys AS (
    SELECT clinician_id, row_number() OVER (ORDER BY clinician_id) AS clinician_key
    FROM (SELECT DISTINCT clinician_id FROM contacts WHERE counted) AS seen
),
patient_keys AS (
    SELECT patient_id, practice_code, row_number() OVER (ORDER BY patient_id) AS patient_key
    FROM patient_practice
),
monthly AS (
    SELECT p.patient_key, k.clinician_key,
           year(c.appointment_date) * 12 + month(c.appointment_date) AS month_number,
           count(*) AS n
    FROM contacts c
    JOIN patient_keys p ON p.patient_id = c.patient_id
    JOIN clinician_keys k ON k.clinician_id = c.clinician_id
    WHERE c.counted
    GROUP BY p.patient_key, k.clinician_key,
             year(c.appointment_date) * 12 + month(c.appointment_date)
),
window_months AS (
    SELECT month_start, year(month_start) * 12 + month(month_start) AS month_number
    FROM months
),
per_clinician AS (
    SELECT w.month_number, c.patient_key, c.clinician_key, sum(c.n) AS n
    FROM monthly c
    JOIN window_months w
      ON c.month_number BETWEEN w.month_number - 11 AND w.month_number
    GROUP BY w.month_number, c.patient_key, c.clinician_key
),
per_patient AS (
    SELECT month_number, patient_key, sum(n) AS contacts, max(n) AS max_n
    FROM per_clinician
    GROUP BY month_number, patient_key
    HAVING sum(n) >= (SELECT min_contacts FROM run_params)
),
first_month AS (
    SELECT pk.practice_code, min(m.month_number) AS month_number
    FROM monthly m
    JOIN patient_keys pk ON pk.patient_key = m.patient_key
    WHERE m.month_number >= (SELECT min(month_number) FROM window_months) - 12
    GROUP BY pk.practice_code
)
SELECT w.month_start, pk.patient_id,
       CAST(p.contacts AS BIGINT) AS contacts,
       CAST(p.max_n AS BIGINT) AS max_n,
       CAST(p.max_n AS DOUBLE) / p.contacts AS upc,
       least(12, p.month_number - f.month_number + 1) AS history_months
FROM per_patient p
JOIN window_months w ON w.month_number = p.month_number
JOIN patient_keys pk ON pk.patient_key = p.patient_key
JOIN first_month f ON f.practice_code = pk.practice_code
