-- refresh_state_contacts: the contacts as the store keeps them for the next refresh
-- (metrics/pipeline/refresh.py): with text ids in place of this run's integer keys, which the next run
-- numbers afresh. refresh_contacts.sql turns them back into keys.
SELECT c.appointment_id, pk.patient_id, c.booked_practice_code, c.appointment_date,
       c.appointment_time, k.clinician_id, c.in_window, c.counted, c.gp_counted
FROM contacts c
JOIN patient_keys pk ON pk.patient_key = c.patient_key
JOIN clinician_keys k ON k.clinician_key = c.clinician_key
