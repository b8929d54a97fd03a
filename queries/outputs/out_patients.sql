-- out_patients: patients.csv, one row per patient with at least one counted contact in the
-- window; index columns blank below the minimum number of contacts. Never leaves through the
-- dashboard (patient-level).
SELECT patient_id, practice_code, contacts, clinicians, usual_clinician_id,
       upc, coc, secon, mmci, hhi, kpc
FROM patient_indices
ORDER BY practice_code, patient_id
