-- group_keys: every (level, group_code, subgroup) that gets a row, so a practice or list with no
-- contacts in the window shows as missing (blank figures), never as absent or zero.
-- subgroup is '' for levels without one (keys are never NULL, so joins stay plain equalities).
SELECT DISTINCT level, group_code, subgroup FROM cell_groups
UNION
SELECT DISTINCT level, group_code, '' FROM practice_groups
UNION
SELECT DISTINCT 'gp_list', practice_code, gp_id FROM list_holder_opr
UNION
SELECT DISTINCT 'gp_list', practice_code, usual_gp_id FROM patient_practice
WHERE usual_gp_id IS NOT NULL
