-- hhi: Herfindahl-Hirschman index = sum_j (n_j / N)^2. Range 1/s..1. Eligible patients only.
-- (Not the "Continuity of Care Index": that name belongs to Bice-Boxerman, see coc.sql.)
SELECT patient_key, CAST(sum_n_squared AS DOUBLE) / (CAST(contacts AS DOUBLE) * contacts) AS hhi
FROM patient_contacts
WHERE eligible
