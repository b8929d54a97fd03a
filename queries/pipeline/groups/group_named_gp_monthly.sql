-- group_named_gp_monthly: SLICC and OPR numerators and denominators per group and calendar month.
-- SLICC (Sidaway-Lee et al. BJGP 2019): all GP contacts in the month; those of patients who have
-- a named GP (the SLICC denominator); and those with that named GP (the SLICC numerator). GP
-- contacts in the window (gp_window_n of patient_clinician_monthly) always, whatever the
-- staff-group option; GPs who hold no list stay in the denominator.
-- Patient-derived groups sum patients' contacts; OPR sums list holders' contacts over the
-- practices of practice-derived levels (it has no patient-band breakdown), and the gp_list level
-- carries that GP's own OPR.
-- Each patient's contacts by clinician and month are summed straight into the patient's cell
-- (patient_cells.sql), then cells into their groups.
WITH cell_months AS (
    SELECT c.cell_id, w.month_start,
           sum(m.gp_window_n) AS gp_contacts,
           sum(CASE WHEN m.clinician_key = c.usual_gp_key THEN m.gp_window_n ELSE 0 END)
               AS slicc_numerator,
           sum(CASE WHEN c.usual_gp_id IS NOT NULL THEN m.gp_window_n ELSE 0 END)
               AS slicc_denominator
    FROM patient_clinician_monthly m
    JOIN months w ON w.month_number = m.month_number
    JOIN patient_cells c ON c.patient_key = m.patient_key
    WHERE m.gp_window_n > 0
    GROUP BY c.cell_id, w.month_start
),
slicc AS (
    SELECT g.level, g.group_code, g.subgroup, m.month_start,
           CAST(sum(m.gp_contacts) AS BIGINT) AS gp_contacts,
           CAST(sum(m.slicc_numerator) AS BIGINT) AS slicc_numerator,
           CAST(sum(m.slicc_denominator) AS BIGINT) AS slicc_denominator
    FROM cell_groups g
    JOIN cell_months m ON m.cell_id = g.cell_id
    GROUP BY g.level, g.group_code, g.subgroup, m.month_start
),
opr AS (
    SELECT pg.level, pg.group_code, '' AS subgroup, o.month_start,
           CAST(sum(o.opr_numerator) AS BIGINT) AS opr_numerator,
           CAST(sum(o.opr_denominator) AS BIGINT) AS opr_denominator
    FROM list_holder_opr o
    JOIN practice_groups pg ON pg.practice_code = o.practice_code
    GROUP BY pg.level, pg.group_code, o.month_start
    UNION ALL
    SELECT 'gp_list', practice_code, gp_id, month_start, opr_numerator, opr_denominator
    FROM list_holder_opr
)
SELECT k.level, k.group_code, k.subgroup, m.month_start,
       coalesce(s.gp_contacts, 0) AS gp_contacts,
       coalesce(s.slicc_numerator, 0) AS slicc_numerator,
       coalesce(s.slicc_denominator, 0) AS slicc_denominator,
       o.opr_numerator, o.opr_denominator
FROM group_keys k
CROSS JOIN months m
LEFT JOIN slicc s
  ON s.level = k.level AND s.group_code = k.group_code AND s.subgroup = k.subgroup
 AND s.month_start = m.month_start
LEFT JOIN opr o
  ON o.level = k.level AND o.group_code = k.group_code AND o.subgroup = k.subgroup
 AND o.month_start = m.month_start
