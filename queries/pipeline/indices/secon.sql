-- secon: Sequential Continuity (Steinwachs 1979)
--        = consecutive pairs of contacts with the same clinician / (N - 1).
-- Contact order: appointment_date, then appointment_time (a missing time sorts after any given
-- time), then appointment_id, then the practice booked under (docs/methods.md s.1). ABAB scores
-- 0 although its UPC is 0.5. Eligible patients only, as patient_contacts.sql decides (s.2).
WITH ordered AS (
    SELECT patient_key, clinician_key,
           lag(clinician_key) OVER (
               PARTITION BY patient_key
               ORDER BY appointment_date, appointment_time ASC NULLS LAST, appointment_id,
                        booked_practice_code
           ) AS previous_clinician_key
    FROM contacts
    WHERE counted AND in_window
      AND patient_key IN (SELECT patient_key FROM patient_contacts WHERE eligible)
)
-- N is the number of rows ordered here (patient_contacts' `contacts`, at least 2 for an eligible
-- patient): no join needed for it.
SELECT patient_key,
       CAST(sum(CASE WHEN previous_clinician_key = clinician_key THEN 1 ELSE 0 END) AS DOUBLE)
           / (count(*) - 1) AS secon
FROM ordered
GROUP BY patient_key
