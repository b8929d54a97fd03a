-- patient_groups: every group a patient with a counted contact is summarised in (long form:
-- patient_id, level, group_code, subgroup).
--   practice-derived levels (practice_groups), subgroup NULL;
--   patient_imd_quintile: the patient's own LSOA band (ceil(decile / 2));
--   age_band: across all practices;
--   gp_list: group_code = practice, subgroup = the patient's named GP (usual_gp_id);
--   practice_age_band, practice_patient_imd_quintile, practice_contacts_band: groups inside one
--   practice (contacts bands of N in the window: 1, 2-3, 4-6, 7-11, 12+ = frequent attenders).
WITH pp AS (
    SELECT pp.patient_id, pp.practice_code, pp.usual_gp_id,
           coalesce(pp.age_band, 'unknown') AS age_band,
           coalesce(CAST(CAST(ceil(pp.imd_decile / 2.0) AS INTEGER) AS VARCHAR), 'unknown')
               AS imd_quintile,
           CASE WHEN pc.contacts >= 12 THEN '12+'
                WHEN pc.contacts >= 7 THEN '7-11'
                WHEN pc.contacts >= 4 THEN '4-6'
                WHEN pc.contacts >= 2 THEN '2-3'
                ELSE '1' END AS contacts_band
    FROM patient_practice pp
    JOIN patient_contacts pc ON pc.patient_id = pp.patient_id
)
SELECT pp.patient_id, g.level, g.group_code, CAST(NULL AS VARCHAR) AS subgroup
FROM pp JOIN practice_groups g ON g.practice_code = pp.practice_code
UNION ALL
SELECT patient_id, 'patient_imd_quintile', imd_quintile, NULL FROM pp
UNION ALL
SELECT patient_id, 'age_band', age_band, NULL FROM pp
UNION ALL
SELECT patient_id, 'gp_list', practice_code, usual_gp_id FROM pp WHERE usual_gp_id IS NOT NULL
UNION ALL
SELECT patient_id, 'practice_age_band', practice_code, age_band FROM pp
UNION ALL
SELECT patient_id, 'practice_patient_imd_quintile', practice_code, imd_quintile FROM pp
UNION ALL
SELECT patient_id, 'practice_contacts_band', practice_code, contacts_band FROM pp
