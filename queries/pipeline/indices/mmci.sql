-- mmci: Modified Modified Continuity Index (Magill & Senf 1987)
--       = (1 - s / (N + 0.1)) / (1 - 1 / (N + 0.1)); depends only on s and N. Eligible only.
SELECT patient_key,
       (1.0 - clinicians / (contacts + 0.1)) / (1.0 - 1.0 / (contacts + 0.1)) AS mmci
FROM patient_contacts
WHERE eligible
