-- slice_patient_indices: the engine's patient-level indices of the benchmark's check slice (a
-- few hundred patients drawn before the run), compared afterwards with metrics/reference.py.
SELECT i.*
FROM patient_indices i
WHERE i.patient_id IN (SELECT patient_id FROM slice_patients)
