-- patient_indices: one row per patient with at least one counted contact in the window; every
-- patient-level index (blank, i.e. NULL, below the minimum number of contacts). The text ids
-- come back here (patient_keys, clinician_keys): this table leaves the pipeline (patients.csv,
-- the benchmark's reference check); patient_key is kept for the roll-ups (group_indices).
SELECT pk.patient_id, pc.patient_key, pk.practice_code, pc.contacts, pc.clinicians, pc.max_n,
       pc.eligible, ck.clinician_id AS usual_clinician_id,
       upc.upc, coc.coc, secon.secon, mmci.mmci, hhi.hhi, kpc.kpc
FROM patient_contacts pc
JOIN patient_keys pk ON pk.patient_key = pc.patient_key
LEFT JOIN usual_provider up ON up.patient_key = pc.patient_key
LEFT JOIN clinician_keys ck ON ck.clinician_key = up.usual_clinician_key
LEFT JOIN upc ON upc.patient_key = pc.patient_key
LEFT JOIN coc ON coc.patient_key = pc.patient_key
LEFT JOIN secon ON secon.patient_key = pc.patient_key
LEFT JOIN mmci ON mmci.patient_key = pc.patient_key
LEFT JOIN hhi ON hhi.patient_key = pc.patient_key
LEFT JOIN kpc ON kpc.patient_key = pc.patient_key
