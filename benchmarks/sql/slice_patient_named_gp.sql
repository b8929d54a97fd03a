-- slice_patient_named_gp: the engine's monthly SLICC counts of the check slice's patients, with
-- their registered practice, compared afterwards with metrics/reference.py's named_gp_ratios.
SELECT n.*, pp.practice_code
FROM patient_named_gp n
JOIN patient_practice pp ON pp.patient_id = n.patient_id
WHERE n.patient_id IN (SELECT patient_id FROM slice_patients)
