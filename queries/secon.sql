-- secon: Sequential Continuity (Steinwachs 1979)
--        = consecutive pairs of contacts with the same clinician / (N - 1).
-- Contact order: appointment_date, then appointment_time (a missing time sorts after any given
-- time), then appointment_id. ABAB scores 0 although its UPC is 0.5. Eligible patients only.
WITH ordered AS (
    SELECT patient_key, clinician_key,
           lag(clinician_key) OVER (
               PARTITION BY patient_key
               ORDER BY appointment_date, appointment_time ASC NULLS LAST, appointment_id,
                        booked_practice_code
           ) AS previous_clinician_key
    FROM contacts
    WHERE counted AND in_window
)
SELECT o.patient_key,
       CAST(sum(CASE WHEN o.previous_clinician_key = o.clinician_key THEN 1 ELSE 0 END) AS DOUBLE)
           / (max(pc.contacts) - 1) AS secon
FROM ordered o
JOIN patient_contacts pc ON pc.patient_key = o.patient_key
WHERE pc.eligible
GROUP BY o.patient_key
