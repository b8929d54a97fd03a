-- practice_groups: the areas a practice rolls up into (long form: practice_code, level,
-- group_code). Levels: practice, pcn, sub_icb, icb, all, practice_imd_quintile.
-- Deprivation quintile = ceil(IMD 2019 decile / 2), 1 = most deprived; practice band from the
-- practice's population-weighted decile. Unknown codes become 'unknown', never dropped.
WITH known AS (
    SELECT practice_code FROM practices
    UNION
    SELECT DISTINCT practice_code FROM patient_practice
),
practice_rows AS (
    SELECT k.practice_code, p.pcn_code, p.sub_icb_code, p.icb_code, p.imd_decile
    FROM known k
    LEFT JOIN practices p ON p.practice_code = k.practice_code
)
SELECT practice_code, 'practice' AS level, practice_code AS group_code FROM practice_rows
UNION ALL
SELECT practice_code, 'pcn', coalesce(pcn_code, 'unknown') FROM practice_rows
UNION ALL
SELECT practice_code, 'sub_icb', coalesce(sub_icb_code, 'unknown') FROM practice_rows
UNION ALL
SELECT practice_code, 'icb', coalesce(icb_code, 'unknown') FROM practice_rows
UNION ALL
SELECT practice_code, 'all', 'all' FROM practice_rows
UNION ALL
SELECT practice_code, 'practice_imd_quintile',
       coalesce(CAST(CAST(ceil(imd_decile / 2.0) AS INTEGER) AS VARCHAR), 'unknown')
FROM practice_rows
