-- refresh_state_patient_rolling_upc: patient_rolling_upc rows as the store keeps them for the
-- next refresh (metrics/refresh.py): the patient's text id in place of this run's key, which the
-- next run numbers afresh. refresh_patient_rolling_upc.sql turns it back into a key.
SELECT r.month_start, pk.patient_id, r.contacts, r.max_n, r.upc
FROM patient_rolling_upc r
JOIN patient_keys pk ON pk.patient_key = r.patient_key
