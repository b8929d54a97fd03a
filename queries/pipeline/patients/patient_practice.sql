-- patient_practice: the practice each patient belongs to.
--
-- Convention (docs/methods.md s.2): a patient belongs to the practice in the patients
-- extract (registered practice). A patient missing from that extract is placed at the practice of
-- their latest appointment and flagged `registered = false`, so no contact is lost. Latest = last
-- in contact order (date, time with a missing time last, appointment_id, then practice code), so
-- two appointments on one day at two practices always give the same answer.
WITH unlisted AS (
    SELECT a.patient_id, a.practice_code,
           row_number() OVER (
               PARTITION BY a.patient_id
               ORDER BY a.appointment_date DESC, a.appointment_time DESC NULLS FIRST,
                        a.appointment_id DESC, a.practice_code DESC
           ) AS latest
    FROM appointments a
    WHERE a.patient_id NOT IN (SELECT patient_id FROM patients)
)
SELECT patient_id, practice_code, TRUE AS registered, usual_gp_id, imd_decile, age_band
FROM patients
UNION ALL
SELECT patient_id, practice_code,
       FALSE AS registered,
       CAST(NULL AS VARCHAR) AS usual_gp_id,
       CAST(NULL AS INTEGER) AS imd_decile,
       CAST(NULL AS VARCHAR) AS age_band
FROM unlisted
WHERE latest = 1
