-- coc: Bice-Boxerman Continuity of Care index (1977) = (sum_j n_j^2 - N) / (N (N - 1)).
-- Range 0..1; unbiased for sum_j p_j^2 at every N >= 2. Eligible patients only.
SELECT patient_key,
       CAST(sum_n_squared - contacts AS DOUBLE) / (CAST(contacts AS DOUBLE) * (contacts - 1)) AS coc
FROM patient_contacts
WHERE eligible
