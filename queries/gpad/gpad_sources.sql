-- gpad_sources: the GPAD files loaded into the store (name, months, rows, appointments), for
-- the source line under every national-context figure.
SELECT file, months, practices, rows, appointments, loaded_at
FROM gpad_sources
ORDER BY months, file
