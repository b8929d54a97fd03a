-- gpad_practice_codes: the PCN and sub-ICB a practice belongs to in the GPAD files, from its
-- latest month there (PCN membership changes over time; the latest is the one to compare with).
-- Parameter: $practice (ODS practice code). No row when the practice is not in the files.
SELECT practice_code, pcn_code, sub_icb_code, month
FROM gpad_appointments
WHERE practice_code = CAST($practice AS VARCHAR)
ORDER BY month DESC, pcn_code NULLS LAST
LIMIT 1
