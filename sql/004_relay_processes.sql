-- One row per live ciis-relay process: how many rooms it holds, for
-- /api/realtime/stats (summed over every live process, SPEC §8).  The
-- relay writes it with its socket changes and at least every 20 s, and
-- deletes it when it stops; a row not refreshed for 60 s is a relay that
-- died and is neither counted nor kept.
CREATE TABLE IF NOT EXISTS relay_processes (
  process_id  VARCHAR(64)  NOT NULL PRIMARY KEY,
  rooms       INT UNSIGNED NOT NULL,
  seen_at     DATETIME(3)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
