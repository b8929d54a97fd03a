-- patient_keys: a dense integer key per patient (patient_practice: registered, or seen in the
-- appointments), numbered in patient_id order, with what the roll-ups need of the patient: the
-- practice, age band, IMD decile, named GP (as text, and as a clinician key: NULL for a named
-- GP with no recorded appointment) and that list's key (list_keys). Every step from contacts on
-- sorts, joins and groups on these 32-bit integers, not text (narrow keys make their large sorts,
-- GROUP BYs and joins about a third faster); text ids come back only where a table leaves the
-- pipeline (patient_indices) or is kept for the next refresh. Keys are numbered afresh by every
-- run: tables kept between runs (metrics/refresh.py, queries/refresh_state_*.sql) hold text ids,
-- never keys.
SELECT pp.patient_id, pp.practice_code, pp.age_band, pp.imd_decile, pp.usual_gp_id,
       k.clinician_key AS usual_gp_key, l.list_key,
       CAST(row_number() OVER (ORDER BY pp.patient_id) AS INTEGER) AS patient_key
FROM patient_practice pp
LEFT JOIN clinician_keys k ON k.clinician_id = pp.usual_gp_id
JOIN list_keys l
  ON l.practice_code IS NOT DISTINCT FROM pp.practice_code
 AND l.usual_gp_id IS NOT DISTINCT FROM pp.usual_gp_id
