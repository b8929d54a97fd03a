-- patient_clinician_counts: n_j, a patient's counted contacts with clinician j in the window,
-- with the last date seen (for the usual-provider tie-break).
SELECT patient_key, clinician_key, count(*) AS n, max(appointment_date) AS last_date
FROM contacts
WHERE counted AND in_window
GROUP BY patient_key, clinician_key
