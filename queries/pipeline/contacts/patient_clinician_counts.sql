-- patient_clinician_counts: n_j, a patient's counted contacts with clinician j in the window,
-- with the latest of them in contact order (last_contact, for the usual-provider tie-break,
-- docs/methods.md s.3), summed from the months of patient_clinician_monthly.
SELECT patient_key, clinician_key, CAST(sum(window_n) AS BIGINT) AS n,
       max(window_last) AS last_contact
FROM patient_clinician_monthly
WHERE window_n > 0
GROUP BY patient_key, clinician_key
