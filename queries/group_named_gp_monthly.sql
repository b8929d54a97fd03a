-- group_named_gp_monthly: SLICC and OPR numerators and denominators per group and calendar month.
-- Patient-derived groups sum patients' contacts; OPR sums list holders' contacts over the
-- practices of practice-derived levels (it has no patient-band breakdown), and the gp_list level
-- carries that GP's own OPR.
WITH slicc AS (
    SELECT g.level, g.group_code, coalesce(g.subgroup, '') AS subgroup, n.month_start,
           CAST(sum(n.gp_contacts) AS BIGINT) AS gp_contacts,
           CAST(sum(n.slicc_numerator) AS BIGINT) AS slicc_numerator,
           CAST(sum(n.slicc_denominator) AS BIGINT) AS slicc_denominator
    FROM patient_groups g
    JOIN patient_named_gp n ON n.patient_id = g.patient_id
    GROUP BY g.level, g.group_code, coalesce(g.subgroup, ''), n.month_start
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
