-- cell_groups: every group a cell of patients (patient_cells.sql) is summarised in (long form:
-- cell_id, level, group_code, subgroup; subgroup is '' for levels without one).
--   practice-derived levels (practice_groups: practice, pcn, sub_icb, icb, all,
--   practice_imd_quintile);
--   patient_imd_quintile: the patients' own LSOA band;
--   age_band: across all practices;
--   gp_list: group_code = practice, subgroup = the patients' named GP (usual_gp_id);
--   practice_age_band, practice_patient_imd_quintile, practice_contacts_band: groups inside one
--   practice.
WITH cells AS (
    SELECT DISTINCT cell_id, practice_code, usual_gp_id, age_band, imd_quintile, contacts_band
    FROM patient_cells
)
SELECT c.cell_id, g.level, g.group_code, '' AS subgroup
FROM cells c JOIN practice_groups g ON g.practice_code = c.practice_code
UNION ALL
SELECT cell_id, 'patient_imd_quintile', imd_quintile, '' FROM cells
UNION ALL
SELECT cell_id, 'age_band', age_band, '' FROM cells
UNION ALL
SELECT cell_id, 'gp_list', practice_code, usual_gp_id FROM cells WHERE usual_gp_id IS NOT NULL
UNION ALL
SELECT cell_id, 'practice_age_band', practice_code, age_band FROM cells
UNION ALL
SELECT cell_id, 'practice_patient_imd_quintile', practice_code, imd_quintile FROM cells
UNION ALL
SELECT cell_id, 'practice_contacts_band', practice_code, contacts_band FROM cells
