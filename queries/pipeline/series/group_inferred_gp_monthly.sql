-- group_inferred_gp_monthly: SLICC against the inferred regular GP (inferred_gp.sql), per group
-- and calendar month: the inferred variant, never mixed with SLICC against a named GP.
--   slicc_inferred_numerator   = GP contacts in month m with the patient's inferred GP for m;
--   slicc_inferred_denominator = GP contacts in month m of patients who have an inferred GP for m;
--   gp_contacts                = every GP contact in month m (denominator / gp_contacts is the
--                                inferred-GP coverage).
-- Contacts as for SLICC (group_named_gp_monthly.sql): `gp_counted` GP contacts in the window
-- (gp_window_n of patient_clinician_monthly), belonging to the patient's registered practice;
-- GPs who are nobody's inferred GP stay in the denominator.
-- Rolled up like group_named_gp_monthly: every level of cell_groups except the named-GP
-- lists, whose place the gp_list level takes here with subgroup = the inferred GP of that month
-- (that GP's inferred list; per-GP figures stay in the practice's own view). Full group x month
-- grid (group_keys and the inferred lists); a month without contacts has zero counts.
-- Each patient's GP contacts by clinician and month, with the patient's cell and the inferred GP
-- of that month (if any).
WITH contact_rows AS (
    SELECT c.cell_id, c.practice_code, w.month_start, i.inferred_gp_key, m.gp_window_n,
           CASE WHEN i.inferred_gp_key IS NOT NULL THEN m.gp_window_n ELSE 0 END AS denominator,
           CASE WHEN m.clinician_key = i.inferred_gp_key THEN m.gp_window_n ELSE 0 END
               AS numerator
    FROM patient_clinician_monthly m
    JOIN months w ON w.month_number = m.month_number
    JOIN patient_cells c ON c.patient_key = m.patient_key
    LEFT JOIN inferred_gp i ON i.patient_key = m.patient_key AND i.month_start = w.month_start
    WHERE m.gp_window_n > 0
),
-- Summed into cells (patient_cells.sql), then cells into their groups.
cell_months AS (
    SELECT cell_id, month_start,
           sum(gp_window_n) AS gp_contacts,
           sum(numerator) AS numerator,
           sum(denominator) AS denominator
    FROM contact_rows
    GROUP BY cell_id, month_start
),
sums AS (
    SELECT g.level, g.group_code, g.subgroup, m.month_start,
           CAST(sum(m.gp_contacts) AS BIGINT) AS gp_contacts,
           CAST(sum(m.numerator) AS BIGINT) AS numerator,
           CAST(sum(m.denominator) AS BIGINT) AS denominator
    FROM cell_groups g
    JOIN cell_months m ON m.cell_id = g.cell_id
    WHERE g.level <> 'gp_list'
    GROUP BY g.level, g.group_code, g.subgroup, m.month_start
    UNION ALL
    SELECT 'gp_list', r.practice_code, k.clinician_id, r.month_start,
           CAST(sum(r.gp_window_n) AS BIGINT), CAST(sum(r.numerator) AS BIGINT),
           CAST(sum(r.denominator) AS BIGINT)
    FROM contact_rows r
    JOIN clinician_keys k ON k.clinician_key = r.inferred_gp_key
    GROUP BY r.practice_code, k.clinician_id, r.month_start
),
keys AS (
    SELECT level, group_code, subgroup FROM group_keys WHERE level <> 'gp_list'
    UNION
    SELECT 'gp_list', pk.practice_code, k.clinician_id
    FROM inferred_gp i
    JOIN patient_keys pk ON pk.patient_key = i.patient_key
    JOIN clinician_keys k ON k.clinician_key = i.inferred_gp_key
)
SELECT k.level, k.group_code, k.subgroup, m.month_start,
       coalesce(s.gp_contacts, 0) AS gp_contacts,
       coalesce(s.numerator, 0) AS slicc_inferred_numerator,
       coalesce(s.denominator, 0) AS slicc_inferred_denominator
FROM keys k
CROSS JOIN months m
LEFT JOIN sums s
  ON s.level = k.level AND s.group_code = k.group_code AND s.subgroup = k.subgroup
 AND s.month_start = m.month_start
