-- patient_keys: a dense integer key per patient, with the patient's practice and named GP (as
-- text and as a clinician key: NULL for a named GP who has no contacts), so that the steps after
-- patient_clinician_monthly sort, join and group on 32-bit integers, not text (narrow keys make
-- their large GROUP BYs and joins about a third faster). Keys are numbered afresh by every run:
-- tables kept between runs (metrics/refresh.py) hold text ids, never keys.
SELECT pp.patient_id, pp.practice_code, pp.usual_gp_id, k.clinician_key AS usual_gp_key,
       CAST(row_number() OVER (ORDER BY pp.patient_id) AS INTEGER) AS patient_key
FROM patient_practice pp
LEFT JOIN clinician_keys k ON k.clinician_id = pp.usual_gp_id
