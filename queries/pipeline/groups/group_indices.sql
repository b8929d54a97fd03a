-- group_indices: every group's summary over the window (docs/methods.md s.7).
-- Patient indices: mean (and standard deviation, for intervals) of patient values over eligible
-- patients, with their count; pooled UPC = sum max_j n_j / sum N over eligible patients.
-- contacts counts all the group's counted contacts in the window (eligible or not).
-- SLICC and OPR: pooled ratios carried with numerator and denominator; named_gp_coverage = share
-- of the group's GP contacts made by patients who have a named GP. Higher levels are computed from
-- patients and appointments, never as a mean of practice means. Ratios are NULL (blank) where
-- their denominator is 0.
-- Patients are summed into cells (patient_cells.sql), then cells into their groups: means and
-- standard deviations come from counts, sums and sums of squares of the patients' values.
WITH cell_summary AS (
    SELECT c.cell_id,
           count(*) AS patients,
           sum(CASE WHEN i.eligible THEN 1 ELSE 0 END) AS eligible_patients,
           sum(i.contacts) AS contacts,
           count(i.upc) AS upc_n, sum(i.upc) AS upc_sum, sum(i.upc * i.upc) AS upc_squares,
           count(i.coc) AS coc_n, sum(i.coc) AS coc_sum, sum(i.coc * i.coc) AS coc_squares,
           count(i.secon) AS secon_n, sum(i.secon) AS secon_sum,
           sum(i.secon * i.secon) AS secon_squares,
           count(i.mmci) AS mmci_n, sum(i.mmci) AS mmci_sum, sum(i.mmci * i.mmci) AS mmci_squares,
           count(i.hhi) AS hhi_n, sum(i.hhi) AS hhi_sum, sum(i.hhi * i.hhi) AS hhi_squares,
           count(i.kpc) AS kpc_n, sum(i.kpc) AS kpc_sum, sum(i.kpc * i.kpc) AS kpc_squares,
           sum(CASE WHEN i.eligible THEN i.max_n ELSE 0 END) AS upc_pooled_numerator,
           sum(CASE WHEN i.eligible THEN i.contacts ELSE 0 END) AS upc_pooled_denominator
    FROM patient_indices i
    JOIN patient_cells c ON c.patient_key = i.patient_key
    GROUP BY c.cell_id
),
patient_summary AS (
    SELECT g.level, g.group_code, g.subgroup,
           CAST(sum(s.patients) AS BIGINT) AS patients,
           CAST(sum(s.eligible_patients) AS BIGINT) AS eligible_patients,
           CAST(sum(s.contacts) AS BIGINT) AS contacts,
           sum(s.upc_sum) / sum(s.upc_n) AS upc_mean,
           CASE WHEN sum(s.upc_n) > 1 THEN sqrt(greatest(
               (sum(s.upc_squares) - sum(s.upc_sum) * sum(s.upc_sum) / sum(s.upc_n))
               / (sum(s.upc_n) - 1), 0)) END AS upc_sd,
           sum(s.coc_sum) / sum(s.coc_n) AS coc_mean,
           CASE WHEN sum(s.coc_n) > 1 THEN sqrt(greatest(
               (sum(s.coc_squares) - sum(s.coc_sum) * sum(s.coc_sum) / sum(s.coc_n))
               / (sum(s.coc_n) - 1), 0)) END AS coc_sd,
           sum(s.secon_sum) / sum(s.secon_n) AS secon_mean,
           CASE WHEN sum(s.secon_n) > 1 THEN sqrt(greatest(
               (sum(s.secon_squares) - sum(s.secon_sum) * sum(s.secon_sum) / sum(s.secon_n))
               / (sum(s.secon_n) - 1), 0)) END AS secon_sd,
           sum(s.mmci_sum) / sum(s.mmci_n) AS mmci_mean,
           CASE WHEN sum(s.mmci_n) > 1 THEN sqrt(greatest(
               (sum(s.mmci_squares) - sum(s.mmci_sum) * sum(s.mmci_sum) / sum(s.mmci_n))
               / (sum(s.mmci_n) - 1), 0)) END AS mmci_sd,
           sum(s.hhi_sum) / sum(s.hhi_n) AS hhi_mean,
           CASE WHEN sum(s.hhi_n) > 1 THEN sqrt(greatest(
               (sum(s.hhi_squares) - sum(s.hhi_sum) * sum(s.hhi_sum) / sum(s.hhi_n))
               / (sum(s.hhi_n) - 1), 0)) END AS hhi_sd,
           sum(s.kpc_sum) / sum(s.kpc_n) AS kpc_mean,
           CASE WHEN sum(s.kpc_n) > 1 THEN sqrt(greatest(
               (sum(s.kpc_squares) - sum(s.kpc_sum) * sum(s.kpc_sum) / sum(s.kpc_n))
               / (sum(s.kpc_n) - 1), 0)) END AS kpc_sd,
           CAST(sum(s.upc_pooled_numerator) AS BIGINT) AS upc_pooled_numerator,
           CAST(sum(s.upc_pooled_denominator) AS BIGINT) AS upc_pooled_denominator
    FROM cell_groups g
    JOIN cell_summary s ON s.cell_id = g.cell_id
    GROUP BY g.level, g.group_code, g.subgroup
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
