-- patient_cells: each patient with a counted contact in the window, with the attributes that
-- decide every group they are summarised in (cell_groups.sql), numbered as cells: patients with
-- the same attributes share a cell_id. With the patient's integer key and named GP's clinician
-- key (patient_keys), for the roll-ups of patient_clinician_monthly.
-- Why cells: a patient belongs to a dozen groups (practice, PCN, ... own deprivation band, named
-- GP's list, bands inside the practice). Roll-ups sum patient rows into cells first and cells
-- into groups after, so that fan-out happens once per cell (about 25,000 cells for 640,000
-- patients at 10 million appointments), not once per patient; sums are exact either way.
--   imd_quintile: the patient's own LSOA band (the imd_quintiles parameter table:
--                 metrics/schema.IMD_QUINTILE_OF_DECILE), 'unknown' when missing;
--   age_band: 'unknown' when missing;
--   contacts_band: counted contacts in the window, 1, 2-3, 4-6, 7-11, 12+ (frequent attenders).
WITH attributes AS (
    SELECT pk.patient_key, pk.practice_code, pk.usual_gp_id, pk.usual_gp_key,
           coalesce(pk.age_band, 'unknown') AS age_band,
           coalesce(CAST(q.imd_quintile AS VARCHAR), 'unknown') AS imd_quintile,
           CASE WHEN pc.contacts >= 12 THEN '12+'
                WHEN pc.contacts >= 7 THEN '7-11'
                WHEN pc.contacts >= 4 THEN '4-6'
                WHEN pc.contacts >= 2 THEN '2-3'
                ELSE '1' END AS contacts_band
    FROM patient_keys pk
    JOIN patient_contacts pc ON pc.patient_key = pk.patient_key
    LEFT JOIN imd_quintiles q ON q.imd_decile = pk.imd_decile
),
-- The distinct cells are numbered, then patients join their cell: the cells are sorted (about
-- 25,000 at 10M appointments), not every patient (a rank over all of them sorts on one thread).
cells AS (
    SELECT practice_code, usual_gp_id, age_band, imd_quintile, contacts_band,
           row_number() OVER (
               ORDER BY practice_code, usual_gp_id, age_band, imd_quintile, contacts_band
           ) AS cell_id
    FROM (SELECT DISTINCT practice_code, usual_gp_id, age_band, imd_quintile, contacts_band
          FROM attributes)
)
SELECT a.patient_key, c.cell_id, a.practice_code, a.usual_gp_id, a.usual_gp_key, a.age_band,
       a.imd_quintile, a.contacts_band
FROM attributes a
JOIN cells c
  ON c.practice_code = a.practice_code AND c.usual_gp_id IS NOT DISTINCT FROM a.usual_gp_id
 AND c.age_band = a.age_band AND c.imd_quintile = a.imd_quintile
 AND c.contacts_band = a.contacts_band
