-- refresh_patient_rolling_upc: patient_rolling_upc rows of the new window (metrics/refresh.py).
-- A month's rows depend only on the contacts of the 12 months up to it, which the old and the new
-- window both hold for every month but the first, so: the stored rows strictly between the new
-- window's first and last months, plus this run's rows, computed for those two months alone
-- (patient_rolling_upc_boundary); both with text ids (refresh_state_patient_rolling_upc.sql),
-- keyed with this run's keys. Columns as patient_rolling_upc.sql.
WITH merged AS (
    SELECT s.*
    FROM state_patient_rolling_upc s
    CROSS JOIN refresh_params f
    WHERE s.month_start > f.window_start AND s.month_start < f.new_month_start
    UNION ALL BY NAME
    SELECT * FROM patient_rolling_upc_boundary
)
SELECT m.month_start, pk.patient_key, m.contacts, m.max_n, m.upc
FROM merged m
JOIN patient_keys pk ON pk.patient_id = m.patient_id
