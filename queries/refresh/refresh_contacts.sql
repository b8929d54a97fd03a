-- refresh_contacts: the contacts of the new window (metrics/pipeline/refresh.py) without re-ranking every
-- appointment: a contact row depends only on its appointment, its day (same-day collapse ranks
-- within one patient, clinician and day) and the patient's practice, never on the window, except
-- for `in_window` and the look-back bound. So: the stored contacts still on or after the new
-- look-back start, plus the contacts of the new month (month_contacts), both with text ids
-- (refresh_state_contacts.sql), keyed with this run's keys and with `in_window` set for the new
-- window. Columns as contacts.sql.
WITH merged AS (
    SELECT s.* FROM state_contacts s
    CROSS JOIN run_params rp
    WHERE s.appointment_date >= rp.lookback_start
    UNION ALL BY NAME
    SELECT * FROM month_contacts
)
SELECT m.appointment_id, pk.patient_key, k.clinician_key, m.booked_practice_code,
       m.appointment_date, m.appointment_time,
       m.appointment_date >= rp.window_start AS in_window, m.counted, m.gp_counted
FROM merged m
JOIN patient_keys pk ON pk.patient_id = m.patient_id
JOIN clinician_keys k ON k.clinician_id = m.clinician_id
CROSS JOIN run_params rp
