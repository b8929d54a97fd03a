-- refresh_history_moved: practices whose rolling-UPC history_months (patient_rolling_upc.sql:
-- months since the practice's first counted contact in the contacts read, capped at 12) could
-- differ between the stored run and the new window in a month the refresh reuses. That happens
-- only when the first counted month moved (the look-back start moved on) and, before or after
-- the move, it is less than 12 months before the first reused month. Any row means: rebuild.
WITH old_first AS (
    SELECT practice_code, min(year(appointment_date) * 12 + month(appointment_date)) AS first
    FROM state_contacts WHERE counted GROUP BY practice_code
),
new_first AS (
    SELECT pk.practice_code,
           min(year(c.appointment_date) * 12 + month(c.appointment_date)) AS first
    FROM contacts c
    JOIN patient_keys pk ON pk.patient_key = c.patient_key
    WHERE c.counted
    GROUP BY pk.practice_code
),
reused AS (
    SELECT year(window_start) * 12 + month(window_start) + 1 AS first_reused FROM refresh_params
)
SELECT coalesce(n.practice_code, o.practice_code) AS practice_code
FROM new_first n
FULL JOIN old_first o ON o.practice_code = n.practice_code
CROSS JOIN reused r
WHERE o.first IS DISTINCT FROM n.first
  AND (coalesce(o.first, r.first_reused) > r.first_reused - 11
       OR coalesce(n.first, r.first_reused) > r.first_reused - 11)
