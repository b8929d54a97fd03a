-- ordered_floor: the least any index that follows a patient's contacts in order must do (SECON
-- counts consecutive contacts; the same-day collapse keeps the first of a day's): read every
-- appointment once and order each patient's by date, time and id, with no filtering or joins.
-- Beside the floor (floor.sql) it shows what one such order costs; the definitions need two
-- (SECON's, per patient, and the same-day collapse's, per patient, clinician and day).
SELECT patient_id, clinician_id,
       lag(clinician_id) OVER (
           PARTITION BY patient_id ORDER BY appointment_date, appointment_time, appointment_id
       ) AS previous_clinician_id
FROM appointments
