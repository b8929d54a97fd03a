-- kpc: Known Provider of Care = share of the window's contacts whose clinician the patient had
-- already seen in a counted contact in the 365 days before that contact's date.
-- Convention: "before" means an earlier date (a same-day contact does not make the clinician
-- known), and the look-back may reach up to 365 days before the window start. Eligible only.
-- Each day a patient saw a clinician carries that day's counted contacts in the window, so the
-- known share is summed from days without joining back to contacts.
WITH seen_days AS (
    SELECT patient_id, clinician_id, appointment_date,
           sum(CASE WHEN in_window THEN 1 ELSE 0 END) AS window_contacts
    FROM contacts
    WHERE counted
    GROUP BY patient_id, clinician_id, appointment_date
),
known_days AS (
    SELECT patient_id, window_contacts,
           date_diff('day',
                     lag(appointment_date) OVER (
                         PARTITION BY patient_id, clinician_id ORDER BY appointment_date),
                     appointment_date) <= 365 AS known
    FROM seen_days
)
SELECT k.patient_id,
       CAST(sum(CASE WHEN k.known THEN k.window_contacts ELSE 0 END) AS DOUBLE)
           / max(pc.contacts) AS kpc
FROM known_days k
JOIN patient_contacts pc ON pc.patient_id = k.patient_id
WHERE pc.eligible
GROUP BY k.patient_id
