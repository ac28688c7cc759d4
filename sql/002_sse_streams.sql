-- Open Server-Sent-Events streams of every ciis-api process, so that
-- sse.max_streams_per_user holds across processes and /api/realtime/stats
-- can sum them.  Each process refreshes seen_at of its rows while they are
-- open; rows of a process that died stop being counted after a minute.
CREATE TABLE IF NOT EXISTS sse_streams (
  id          VARCHAR(64)  NOT NULL PRIMARY KEY,
  process_id  VARCHAR(64)  NOT NULL,
  org_id      VARCHAR(64)  NOT NULL,
  user_id     VARCHAR(64)  NOT NULL,
  kind        ENUM('issues','heatmap','notifications') NOT NULL,
  opened_at   DATETIME(3)  NOT NULL,
  seen_at     DATETIME(3)  NOT NULL,
  KEY sse_streams_user (org_id, user_id, seen_at),
  KEY sse_streams_process (process_id),
  KEY sse_streams_seen (seen_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The issue as it stands after an event whose payload does not carry it
-- (issue:note): streams deliver every issue event with the issue.
ALTER TABLE events ADD COLUMN subject MEDIUMTEXT NULL AFTER payload;
