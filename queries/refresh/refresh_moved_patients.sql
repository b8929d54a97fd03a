-- refresh_moved_patients: patients missing from the patients extract whose latest appointment,
-- now in the new month, is at another practice than before. They move every earlier month's
-- figures to another practice, so the refresh gives way to a full rebuild when any exist.
SELECT pp.patient_id
FROM patient_practice pp
JOIN state_patient_practice s ON s.patient_id = pp.patient_id
WHERE NOT pp.registered AND pp.practice_code <> s.practice_code
