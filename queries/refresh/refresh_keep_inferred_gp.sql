-- refresh_keep_inferred_gp: bring the store's kept inferred_gp rows (state_inferred_gp in the
-- attached store) to the new window in place (metrics/pipeline/refresh.py): drop the months up to and
-- including the new first month, then add this run's rows, computed for the first and last months
-- alone, with text ids (inferred_gp_boundary, from refresh_state_inferred_gp.sql). The result
-- equals the state a full build keeps.
DELETE FROM store.state_inferred_gp
WHERE month_start <= (SELECT window_start FROM refresh_params);
INSERT INTO store.state_inferred_gp BY NAME SELECT * FROM inferred_gp_boundary;
