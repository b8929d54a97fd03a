-- upc: Usual Provider of Care (Breslau & Reeb 1975) = max_j n_j / N.
-- Range 1/N..1; biased upward at small N. Eligible patients only (N >= minimum).
SELECT patient_key, CAST(max_n AS DOUBLE) / contacts AS upc
FROM patient_contacts
WHERE eligible
