-- refresh_inferred_gp: inferred_gp rows of the new window (metrics/pipeline/refresh.py). A month's rows
-- depend only on the contacts of the 12 months up to it, which the old and the new window both
-- hold for every month but the first, so: the stored rows strictly between the new window's
-- first and last months, plus this run's rows, computed for those two months alone
-- (inferred_gp_boundary); both with text ids (refresh_state_inferred_gp.sql), keyed with this
-- run's keys. Columns as inferred_gp.sql.
WITH merged AS (
    SELECT s.*
    FROM state_inferred_gp s
    CROSS JOIN refresh_params f
    WHERE s.month_start > f.window_start AND s.month_start < f.new_month_start
    UNION ALL BY NAME
    SELECT * FROM inferred_gp_boundary
)
SELECT pk.patient_key, m.month_start, k.clinician_key AS inferred_gp_key, m.history_contacts,
       m.history_last_date
FROM merged m
JOIN patient_keys pk ON pk.patient_id = m.patient_id
JOIN clinician_keys k ON k.clinician_id = m.inferred_gp_id
