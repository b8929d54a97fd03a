-- gpad_context_monthly: NHS England GPAD (Appointments in General Practice, published figures)
-- per calendar month for one practice, its PCN, its sub-ICB and England, as counts and shares.
-- Parameters: $practice, $pcn, $sub_icb (codes; a NULL code leaves that level out).
-- Membership is the GPAD file's own for each month (PCN_CODE, SUB_ICB_LOCATION_CODE of the
-- row). England = every practice in the loaded files for that month: a true England figure
-- needs every region's file of the month loaded (`practices` says how many contributed).
-- Long form, one row per level x month x measure x category, zero-filled:
--   measure 'staff':  HCP_TYPE gp, other_practice_staff, unknown
--   measure 'mode':   APPT_MODE face_to_face, telephone, video_online, home_visit, unknown
--   measure 'status': APPT_STATUS attended, did_not_attend, unknown (did_not_attend = DNA rate)
-- Every share has the publication's denominator: all appointments of the level and month
-- (every status, HCP type and mode, as NHS England reports "45% GP", "4% DNA"); `appointments`
-- and `total` carry the counts behind it.
WITH target AS (
    SELECT CAST($practice AS VARCHAR) AS practice_code, CAST($pcn AS VARCHAR) AS pcn_code,
           CAST($sub_icb AS VARCHAR) AS sub_icb_code
),
scoped AS (
    SELECT 1 AS level_order, 'practice' AS level, g.practice_code AS group_code, g.month,
           g.practice_code, g.hcp_type, g.mode, g.status, g.appointments
    FROM gpad_appointments g JOIN target t ON g.practice_code = t.practice_code
    UNION ALL
    SELECT 2, 'pcn', g.pcn_code, g.month, g.practice_code, g.hcp_type, g.mode, g.status,
           g.appointments
    FROM gpad_appointments g JOIN target t ON g.pcn_code = t.pcn_code
    UNION ALL
    SELECT 3, 'sub_icb', g.sub_icb_code, g.month, g.practice_code, g.hcp_type, g.mode,
           g.status, g.appointments
    FROM gpad_appointments g JOIN target t ON g.sub_icb_code = t.sub_icb_code
    UNION ALL
    SELECT 4, 'england', 'England', g.month, g.practice_code, g.hcp_type, g.mode, g.status,
           g.appointments
    FROM gpad_appointments g
),
totals AS (
    SELECT level_order, level, group_code, month,
           CAST(sum(appointments) AS BIGINT) AS total,
           count(DISTINCT practice_code) AS practices
    FROM scoped
    GROUP BY level_order, level, group_code, month
),
categories (measure, category, category_order) AS (
    VALUES ('staff', 'gp', 1), ('staff', 'other_practice_staff', 2), ('staff', 'unknown', 3),
           ('mode', 'face_to_face', 1), ('mode', 'telephone', 2), ('mode', 'video_online', 3),
           ('mode', 'home_visit', 4), ('mode', 'unknown', 5),
           ('status', 'attended', 1), ('status', 'did_not_attend', 2), ('status', 'unknown', 3)
),
counted AS (
    SELECT level, group_code, month, 'staff' AS measure, hcp_type AS category,
           sum(appointments) AS appointments
    FROM scoped GROUP BY level, group_code, month, hcp_type
    UNION ALL
    SELECT level, group_code, month, 'mode', mode, sum(appointments)
    FROM scoped GROUP BY level, group_code, month, mode
    UNION ALL
    SELECT level, group_code, month, 'status', status, sum(appointments)
    FROM scoped GROUP BY level, group_code, month, status
)
SELECT t.level, t.group_code, t.month, c.measure, c.category,
       CAST(coalesce(n.appointments, 0) AS BIGINT) AS appointments, t.total, t.practices,
       CASE WHEN t.total > 0 THEN CAST(coalesce(n.appointments, 0) AS DOUBLE) / t.total END
           AS share
FROM totals t
CROSS JOIN categories c
LEFT JOIN counted n
  ON n.level = t.level AND n.group_code = t.group_code AND n.month = t.month
 AND n.measure = c.measure AND n.category = c.category
ORDER BY t.level_order, t.month, c.measure, c.category_order
