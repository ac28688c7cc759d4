-- ciis schema, version 1: places, issues, the event log and what the
-- real-time side keeps.  Every timestamp is UTC with milliseconds.

CREATE TABLE IF NOT EXISTS organizations (
  id          VARCHAR(64)  NOT NULL PRIMARY KEY,
  name        VARCHAR(200) NOT NULL,
  created_at  DATETIME(3)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS campuses (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id      VARCHAR(64)  NOT NULL,
  name        VARCHAR(200) NOT NULL,
  lat         DOUBLE NULL,
  lng         DOUBLE NULL,
  created_at  DATETIME(3)  NOT NULL,
  KEY campuses_org (org_id, id),
  CONSTRAINT campuses_org_fk FOREIGN KEY (org_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS buildings (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id      VARCHAR(64)  NOT NULL,
  campus_id   BIGINT UNSIGNED NOT NULL,
  name        VARCHAR(200) NOT NULL,
  lat         DOUBLE NULL,
  lng         DOUBLE NULL,
  created_at  DATETIME(3)  NOT NULL,
  KEY buildings_campus (campus_id, id),
  KEY buildings_org (org_id, id),
  CONSTRAINT buildings_campus_fk FOREIGN KEY (campus_id) REFERENCES campuses (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS issues (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id       VARCHAR(64)  NOT NULL,
  campus_id    BIGINT UNSIGNED NOT NULL,
  building_id  BIGINT UNSIGNED NOT NULL,
  title        VARCHAR(200) NOT NULL,
  description  TEXT NOT NULL,
  category     VARCHAR(64)  NOT NULL,
  priority     ENUM('low','medium','high','critical') NOT NULL,
  status       ENUM('open','assigned','in_progress','resolved','closed') NOT NULL,
  reporter_id  VARCHAR(64)  NOT NULL,
  assigned_to  VARCHAR(64)  NULL,
  floor        VARCHAR(32)  NULL,
  room         VARCHAR(64)  NULL,
  lat          DOUBLE NULL,
  lng          DOUBLE NULL,
  resolution   TEXT NULL,
  version      INT UNSIGNED NOT NULL,
  created_at   DATETIME(3)  NOT NULL,
  updated_at   DATETIME(3)  NOT NULL,
  resolved_at  DATETIME(3)  NULL,
  KEY issues_org (org_id, id),
  KEY issues_building (building_id, status),
  KEY issues_campus (campus_id, id),
  CONSTRAINT issues_building_fk FOREIGN KEY (building_id) REFERENCES buildings (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The bus.  Ids come from event_seq, whose one row every appending
-- transaction updates as its last statement before COMMIT: the row lock hands
-- ids out in commit order with none skipped (a rollback returns its ids), and
-- readers of "id > last" stop at a hole until the commit behind it shows.
CREATE TABLE IF NOT EXISTS event_seq (
  id    TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  last  BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO event_seq (id, last) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS events (
  id           BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  type         VARCHAR(32)  NOT NULL,
  org_id       VARCHAR(64)  NOT NULL,
  campus_id    BIGINT UNSIGNED NULL,
  building_id  BIGINT UNSIGNED NULL,
  issue_id     BIGINT UNSIGNED NULL,
  user_id      VARCHAR(64)  NULL,      -- target user (notifications)
  actor_id     VARCHAR(64)  NULL,
  issue_version INT UNSIGNED NULL,     -- the issue's version after the change
  payload      MEDIUMTEXT NOT NULL,    -- the SPEC §6 payload, eventId included
  created_at   DATETIME(3)  NOT NULL,
  KEY events_org (org_id, id),
  KEY events_issue (issue_id, id),
  KEY events_user (user_id, id),
  KEY events_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- An issue's own events, kept for as long as the issue exists (the events
-- table is pruned after events.retention_hours); written in the same
-- transaction as the event itself.
CREATE TABLE IF NOT EXISTS issue_history (
  event_id      BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  issue_id      BIGINT UNSIGNED NOT NULL,
  org_id        VARCHAR(64)  NOT NULL,
  type          VARCHAR(32)  NOT NULL,
  actor_id      VARCHAR(64)  NULL,
  issue_version INT UNSIGNED NULL,
  payload       MEDIUMTEXT NOT NULL,
  created_at    DATETIME(3)  NOT NULL,
  KEY issue_history_issue (issue_id, event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notifications (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id      VARCHAR(64)  NOT NULL,
  user_id     VARCHAR(64)  NOT NULL,
  type        VARCHAR(64)  NOT NULL,
  priority    ENUM('low','medium','high','critical') NOT NULL,
  title       VARCHAR(200) NOT NULL,
  body        TEXT NOT NULL,
  data        MEDIUMTEXT NULL,
  created_at  DATETIME(3)  NOT NULL,
  expires_at  DATETIME(3)  NULL,
  read_at     DATETIME(3)  NULL,
  KEY notifications_user (org_id, user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per live relay socket; a user is online while any row of theirs
-- is fresh (seen_at is refreshed by the relay that holds the socket).
CREATE TABLE IF NOT EXISTS presence (
  socket_id   VARCHAR(64)  NOT NULL PRIMARY KEY,
  org_id      VARCHAR(64)  NOT NULL,
  user_id     VARCHAR(64)  NOT NULL,
  name        VARCHAR(128) NOT NULL,
  status      ENUM('online','away','offline') NOT NULL,
  process_id  VARCHAR(64)  NOT NULL,
  seen_at     DATETIME(3)  NOT NULL,
  KEY presence_user (org_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS schema_version (
  version     INT UNSIGNED NOT NULL PRIMARY KEY,
  name        VARCHAR(200) NOT NULL,
  applied_at  DATETIME(3)  NOT NULL
) ENGINE=InnoDB;
