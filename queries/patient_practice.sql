-- patient_practice: the practice each patient belongs to.
--
-- Convention (continuity-indices.md s.1): a patient belongs to the practice in the patients
-- extract (registered practice). A patient missing from that extract is placed at the practice of
-- their latest appointment and flagged `registered = false`, so no contact is lost.
SELECT patient_id, practice_code, TRUE AS registered, usual_gp_id, imd_decile, age_band
FROM patients
UNION ALL
SELECT a.patient_id,
       arg_max(a.practice_code, a.appointment_date) AS practice_code,
       FALSE AS registered,
       CAST(NULL AS VARCHAR) AS usual_gp_id,
       CAST(NULL AS INTEGER) AS imd_decile,
       CAST(NULL AS VARCHAR) AS age_band
FROM appointments a
WHERE a.patient_id NOT IN (SELECT patient_id FROM patients)
GROUP BY a.patient_id
