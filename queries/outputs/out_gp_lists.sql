-- out_gp_lists: gp_lists.csv, one row per named-GP list (practice, usual_gp_id): list size,
-- patient-index means over the list's eligible patients, SLICC of the list's patients and the
-- list holder's OPR. Per-GP figures: the practice's own view only.
SELECT group_code AS practice_code, subgroup AS usual_gp_id,
       coalesce(list_patients, 0) AS list_patients, eligible_patients, upc_mean, coc_mean,
       slicc, slicc_numerator, slicc_denominator,
       opr, coalesce(opr_numerator, 0) AS opr_numerator,
       coalesce(opr_denominator, 0) AS opr_denominator
FROM group_indices
WHERE level = 'gp_list'
ORDER BY practice_code, usual_gp_id
