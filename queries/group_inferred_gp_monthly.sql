-- group_inferred_gp_monthly: SLICC against the inferred regular GP (inferred_gp.sql), per group
-- and calendar month: the inferred variant, never mixed with SLICC against a named GP.
--   slicc_inferred_numerator   = GP contacts in month m with the patient's inferred GP for m;
--   slicc_inferred_denominator = GP contacts in month m of patients who have an inferred GP for m;
--   gp_contacts                = every GP contact in month m (denominator / gp_contacts is the
--                                inferred-GP coverage).
-- Contacts as for SLICC (patient_named_gp.sql): `gp_counted` GP contacts in the window, belonging
-- to the patient's registered practice; GPs who are nobody's inferred GP stay in the denominator.
-- Rolled up like group_named_gp_monthly: every level of cell_groups except the named-GP
-- lists, whose place the gp_list level takes here with subgroup = the inferred GP of that month
-- (that GP's inferred list; per-GP figures stay in the practice's own view). Full group x month
-- grid (group_keys and the inferred lists); a month without contacts has zero counts.
WITH patient_month AS (
    SELECT c.patient_id, m.month_start, i.inferred_gp_id,
           count(*) AS gp_contacts,
           CAST(sum(CASE WHEN i.inferred_gp_id IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)
               AS denominator,
           CAST(sum(CASE WHEN c.clinician_id = i.inferred_gp_id THEN 1 ELSE 0 END) AS BIGINT)
               AS numerator
    FROM contacts c
    JOIN months m ON m.month_start = CAST(date_trunc('month', c.appointment_date) AS DATE)
    LEFT JOIN inferred_gp i
      ON i.patient_id = c.patient_id AND i.month_start = m.month_start
    WHERE c.gp_counted AND c.in_window
    GROUP BY c.patient_id, m.month_start, i.inferred_gp_id
),
-- Patients' months are summed into cells (patient_cells.sql), then cells into their groups.
cell_months AS (
    SELECT c.cell_id, p.month_start,
           sum(p.gp_contacts) AS gp_contacts,
           sum(p.numerator) AS numerator,
           sum(p.denominator) AS denominator
    FROM patient_month p
    JOIN patient_cells c ON c.patient_id = p.patient_id
    GROUP BY c.cell_id, p.month_start
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
    SELECT 'gp_list', pp.practice_code, p.inferred_gp_id, p.month_start,
           CAST(sum(p.gp_contacts) AS BIGINT), CAST(sum(p.numerator) AS BIGINT),
           CAST(sum(p.denominator) AS BIGINT)
    FROM patient_month p
    JOIN patient_practice pp ON pp.patient_id = p.patient_id
    WHERE p.inferred_gp_id IS NOT NULL
    GROUP BY pp.practice_code, p.inferred_gp_id, p.month_start
),
keys AS (
    SELECT level, group_code, subgroup FROM group_keys WHERE level <> 'gp_list'
    UNION
    SELECT 'gp_list', pp.practice_code, i.inferred_gp_id
    FROM inferred_gp i
    JOIN patient_practice pp ON pp.patient_id = i.patient_id
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
