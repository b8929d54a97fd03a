-- patient_contacts: per patient with at least one counted contact in the window:
-- N (contacts), s (distinct clinicians), sum of n_j^2, max n_j, and whether N reaches the
-- minimum (patient indices are undefined below it, never 0).
SELECT c.patient_key,
       CAST(sum(c.n) AS BIGINT) AS contacts,
       count(*) AS clinicians,
       CAST(sum(c.n * c.n) AS BIGINT) AS sum_n_squared,
       max(c.n) AS max_n,
       sum(c.n) >= max(rp.min_contacts) AS eligible
FROM patient_clinician_counts c
CROSS JOIN run_params rp
GROUP BY c.patient_key
