-- patient_indices: one row per patient with at least one counted contact in the window; every
-- patient-level index (blank, i.e. NULL, below the minimum number of contacts).
SELECT pc.patient_id, pc.practice_code, pc.contacts, pc.clinicians, pc.max_n, pc.eligible,
       up.usual_clinician_id, upc.upc, coc.coc, secon.secon, mmci.mmci, hhi.hhi, kpc.kpc
FROM patient_contacts pc
LEFT JOIN usual_provider up ON up.patient_id = pc.patient_id
LEFT JOIN upc ON upc.patient_id = pc.patient_id
LEFT JOIN coc ON coc.patient_id = pc.patient_id
LEFT JOIN secon ON secon.patient_id = pc.patient_id
LEFT JOIN mmci ON mmci.patient_id = pc.patient_id
LEFT JOIN hhi ON hhi.patient_id = pc.patient_id
LEFT JOIN kpc ON kpc.patient_id = pc.patient_id
