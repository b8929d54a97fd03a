-- group_indices: every group's summary over the window (continuity-indices.md s.4).
-- Patient indices: mean (and standard deviation, for intervals) of patient values over eligible
-- patients, with their count; pooled UPC = sum max_j n_j / sum N over eligible patients.
-- contacts counts all the group's counted contacts in the window (eligible or not).
-- SLICC and OPR: pooled ratios carried with numerator and denominator; named_gp_coverage = share
-- of the group's GP contacts made by patients who have a named GP. Higher levels are computed from
-- patients and appointments, never as a mean of practice means. Ratios are NULL (blank) where
-- their denominator is 0.
WITH patient_summary AS (
    SELECT g.level, g.group_code, coalesce(g.subgroup, '') AS subgroup,
           count(*) AS patients,
           CAST(sum(CASE WHEN i.eligible THEN 1 ELSE 0 END) AS BIGINT) AS eligible_patients,
           CAST(sum(i.contacts) AS BIGINT) AS contacts,
           avg(i.upc) AS upc_mean, stddev_samp(i.upc) AS upc_sd,
           avg(i.coc) AS coc_mean, stddev_samp(i.coc) AS coc_sd,
           avg(i.secon) AS secon_mean, stddev_samp(i.secon) AS secon_sd,
           avg(i.mmci) AS mmci_mean, stddev_samp(i.mmci) AS mmci_sd,
           avg(i.hhi) AS hhi_mean, stddev_samp(i.hhi) AS hhi_sd,
           avg(i.kpc) AS kpc_mean, stddev_samp(i.kpc) AS kpc_sd,
           CAST(sum(CASE WHEN i.eligible THEN i.max_n ELSE 0 END) AS BIGINT) AS upc_pooled_numerator,
           CAST(sum(CASE WHEN i.eligible THEN i.contacts ELSE 0 END) AS BIGINT) AS upc_pooled_denominator
    FROM patient_groups g
    JOIN patient_indices i ON i.patient_id = g.patient_id
    GROUP BY g.level, g.group_code, coalesce(g.subgroup, '')
),
named_gp AS (
    SELECT level, group_code, subgroup,
           CAST(sum(gp_contacts) AS BIGINT) AS gp_contacts,
           CAST(sum(slicc_numerator) AS BIGINT) AS slicc_numerator,
           CAST(sum(slicc_denominator) AS BIGINT) AS slicc_denominator,
           CAST(sum(opr_numerator) AS BIGINT) AS opr_numerator,
           CAST(sum(opr_denominator) AS BIGINT) AS opr_denominator
    FROM group_named_gp_monthly
    GROUP BY level, group_code, subgroup
),
list_sizes AS (
    SELECT 'gp_list' AS level, practice_code AS group_code, usual_gp_id AS subgroup,
           count(*) AS list_patients
    FROM patient_practice
    WHERE usual_gp_id IS NOT NULL AND registered
    GROUP BY practice_code, usual_gp_id
)
SELECT k.level, k.group_code, k.subgroup,
       coalesce(p.patients, 0) AS patients,
       coalesce(p.eligible_patients, 0) AS eligible_patients,
       coalesce(p.contacts, 0) AS contacts,
       p.upc_mean, p.upc_sd, p.coc_mean, p.coc_sd, p.secon_mean, p.secon_sd,
       p.mmci_mean, p.mmci_sd, p.hhi_mean, p.hhi_sd, p.kpc_mean, p.kpc_sd,
       coalesce(p.upc_pooled_numerator, 0) AS upc_pooled_numerator,
       coalesce(p.upc_pooled_denominator, 0) AS upc_pooled_denominator,
       CASE WHEN p.upc_pooled_denominator > 0
            THEN CAST(p.upc_pooled_numerator AS DOUBLE) / p.upc_pooled_denominator END
           AS upc_pooled,
       coalesce(n.gp_contacts, 0) AS gp_contacts,
       coalesce(n.slicc_numerator, 0) AS slicc_numerator,
       coalesce(n.slicc_denominator, 0) AS slicc_denominator,
       CASE WHEN n.slicc_denominator > 0
            THEN CAST(n.slicc_numerator AS DOUBLE) / n.slicc_denominator END AS slicc,
       CASE WHEN n.gp_contacts > 0
            THEN CAST(n.slicc_denominator AS DOUBLE) / n.gp_contacts END AS named_gp_coverage,
       n.opr_numerator, n.opr_denominator,
       CASE WHEN n.opr_denominator > 0
            THEN CAST(n.opr_numerator AS DOUBLE) / n.opr_denominator END AS opr,
       l.list_patients
FROM group_keys k
LEFT JOIN patient_summary p
  ON p.level = k.level AND p.group_code = k.group_code AND p.subgroup = k.subgroup
LEFT JOIN named_gp n
  ON n.level = k.level AND n.group_code = k.group_code AND n.subgroup = k.subgroup
LEFT JOIN list_sizes l
  ON l.level = k.level AND l.group_code = k.group_code AND l.subgroup = k.subgroup
