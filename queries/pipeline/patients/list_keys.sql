-- list_keys: a dense integer key per registered list: a practice and its patients' named GP
-- (usual_gp_id NULL: the practice's patients without one), as patient_practice holds them.
-- patient_keys gives every patient their list's key, so that list_rolling_upc can sum patients
-- into lists month by month without joining text; its rows come back to text through this table.
SELECT practice_code, usual_gp_id,
       CAST(row_number() OVER (ORDER BY practice_code, usual_gp_id) AS INTEGER) AS list_key
FROM (SELECT DISTINCT practice_code, usual_gp_id FROM patient_practice) AS lists
