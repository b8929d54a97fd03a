-- practice_groups: the areas a practice rolls up into (long form: practice_code, level,
-- group_code). Levels: practice, pcn, sub_icb, icb, all, practice_imd_quintile.
-- Deprivation quintile of the practice's population-weighted IMD 2019 decile, 1 = most
-- deprived, as the imd_quintiles parameter table maps it (metrics/schema.IMD_QUINTILE_OF_DECILE,
-- docs/methods.md s.7); out_practices.sql reads it from here. Unknown codes become 'unknown', never dropped.
WITH known AS (
    SELECT practice_code FROM practices
    UNION
    SELECT DISTINCT practice_code FROM patient_practice
),
practice_rows AS (
    SELECT k.practice_code, p.pcn_code, p.sub_icb_code, p.icb_code, q.imd_quintile
    FROM known k
    LEFT JOIN practices p ON p.practice_code = k.practice_code
    LEFT JOIN imd_quintiles q ON q.imd_decile = p.imd_decile
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
       coalesce(CAST(imd_quintile AS VARCHAR), 'unknown')
FROM practice_rows
