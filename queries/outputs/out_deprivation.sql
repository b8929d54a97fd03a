-- out_deprivation: deprivation.csv, the measures by IMD 2019 quintile (1 = most deprived), once
-- by the practice's band (band_source = practice) and once by the patient's own LSOA band
-- (band_source = patient; OPR is a property of GPs' lists, so blank there).
SELECT CASE WHEN level = 'practice_imd_quintile' THEN 'practice' ELSE 'patient' END
           AS band_source,
       group_code AS imd_quintile,
       eligible_patients, contacts,
       upc_mean, coc_mean, secon_mean, mmci_mean, hhi_mean, kpc_mean, upc_pooled,
       slicc, slicc_numerator, slicc_denominator,
       opr, opr_numerator, opr_denominator
FROM group_indices
WHERE level IN ('practice_imd_quintile', 'patient_imd_quintile')
ORDER BY band_source, imd_quintile
