-- refresh_state_inferred_gp: inferred_gp rows as the store keeps them for the next refresh
-- (metrics/pipeline/refresh.py): text ids in place of this run's keys, which the next run numbers afresh.
-- refresh_inferred_gp.sql turns them back into keys.
SELECT pk.patient_id, i.month_start, k.clinician_id AS inferred_gp_id, i.history_contacts,
       i.history_last_date
FROM inferred_gp i
JOIN patient_keys pk ON pk.patient_key = i.patient_key
JOIN clinician_keys k ON k.clinician_key = i.inferred_gp_key
