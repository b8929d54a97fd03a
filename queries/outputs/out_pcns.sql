-- out_pcns: pcns.csv, every measure of practices.csv rolled up to Primary Care Network from
-- patients and appointments (never a mean of practice means).
WITH names AS (
    SELECT pcn_code, min(pcn_name) AS pcn_name, count(*) AS practices
    FROM practices
    GROUP BY pcn_code
)
SELECT g.group_code AS pcn_code, n.pcn_name, coalesce(n.practices, 0) AS practices,
       g.eligible_patients, g.contacts,
       g.upc_mean, g.coc_mean, g.secon_mean, g.mmci_mean, g.hhi_mean, g.kpc_mean, g.upc_pooled,
       g.slicc, g.slicc_numerator, g.slicc_denominator,
       g.opr, coalesce(g.opr_numerator, 0) AS opr_numerator,
       coalesce(g.opr_denominator, 0) AS opr_denominator
FROM group_indices g
LEFT JOIN names n ON n.pcn_code = g.group_code
WHERE g.level = 'pcn'
ORDER BY pcn_code
