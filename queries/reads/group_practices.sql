-- group_practices: how many practices each group figure rests on (disclosure control: a group of
-- fewer than three practices is not shown to someone who cannot see its members).
-- A practice counts for a group when it has counted contacts in the window (group_indices'
-- practice row: contacts or GP contacts above 0). Practice-derived levels from the practice
-- directory (as practice_groups.sql rolls practices up); patient bands across practices from the
-- bands inside each practice (practice_patient_imd_quintile, practice_age_band).
-- {table} is the whitelisted group_indices table (metrics.read.source.ResultSource.table);
-- {imd_quintiles} the (decile, quintile) pairs of metrics.schema.IMD_QUINTILE_OF_DECILE, the
-- one definition the pipeline's imd_quintiles table holds too.
WITH active AS (
    SELECT group_code AS practice_code FROM {table}
    WHERE level = 'practice' AND (contacts > 0 OR gp_contacts > 0)
),
rows AS (
    SELECT a.practice_code, p.pcn_code, p.sub_icb_code, p.icb_code, q.imd_quintile
    FROM active a
    LEFT JOIN practices p ON p.practice_code = a.practice_code
    LEFT JOIN (VALUES {imd_quintiles}) AS q(imd_decile, imd_quintile)
        ON q.imd_decile = p.imd_decile
),
inside AS (
    SELECT level, group_code AS practice_code, subgroup FROM {table}
    WHERE level IN ('practice_patient_imd_quintile', 'practice_age_band')
      AND (contacts > 0 OR gp_contacts > 0)
)
SELECT 'pcn' AS level, coalesce(pcn_code, 'unknown') AS group_code,
       count(*) AS practices
FROM rows GROUP BY 2
UNION ALL
SELECT 'sub_icb', coalesce(sub_icb_code, 'unknown'), count(*) FROM rows GROUP BY 2
UNION ALL
SELECT 'icb', coalesce(icb_code, 'unknown'), count(*) FROM rows GROUP BY 2
UNION ALL
SELECT 'all', 'all', count(*) FROM rows
UNION ALL
SELECT 'practice_imd_quintile',
       coalesce(CAST(imd_quintile AS VARCHAR), 'unknown'), count(*)
FROM rows GROUP BY 2
UNION ALL
SELECT CASE level WHEN 'practice_age_band' THEN 'age_band' ELSE 'patient_imd_quintile' END,
       subgroup, count(DISTINCT practice_code)
FROM inside GROUP BY 1, 2
