-- refresh_patient_practice: every patient's practice after the new month: the stored rows, plus
-- patients first seen in the new month who are not in the patients extract (placed at the
-- practice of their appointment, as patient_practice.sql does).
SELECT * FROM state_patient_practice
UNION ALL BY NAME
SELECT pp.*
FROM patient_practice pp
WHERE pp.patient_id NOT IN (SELECT patient_id FROM state_patient_practice)
