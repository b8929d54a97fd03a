-- out_practices: practices.csv, one row per practice (in the practices extract or holding
-- patients), its figures over the window; blank where a ratio's denominator is 0. The
-- deprivation quintile is practice_groups' (one definition: docs/methods.md s.7).
SELECT g.group_code AS practice_code, p.practice_name, p.pcn_code,
       CAST(nullif(q.group_code, 'unknown') AS INTEGER) AS imd_quintile,
       g.eligible_patients, g.contacts,
       g.upc_mean, g.coc_mean, g.secon_mean, g.mmci_mean, g.hhi_mean, g.kpc_mean, g.upc_pooled,
       g.slicc, g.slicc_numerator, g.slicc_denominator,
       g.opr, coalesce(g.opr_numerator, 0) AS opr_numerator,
       coalesce(g.opr_denominator, 0) AS opr_denominator
FROM group_indices g
LEFT JOIN practices p ON p.practice_code = g.group_code
LEFT JOIN practice_groups q
  ON q.practice_code = g.group_code AND q.level = 'practice_imd_quintile'
WHERE g.level = 'practice'
ORDER BY practice_code
