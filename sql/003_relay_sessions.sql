-- Socket.IO sessions of ciis-relay, for connection state recovery (SPEC §8):
-- a client that comes back with its pid gets its rooms back and every event
-- of them after its offset, on any relay process, also after a restart.
-- process_id is the relay holding the socket (NULL once it closed); that
-- relay refreshes seen_at while it holds it, and a session is recoverable
-- while seen_at is within relay.recovery_seconds.  rooms: the room names,
-- space-separated ("org:o1 campus:7 user:u1").
CREATE TABLE IF NOT EXISTS relay_sessions (
  pid             VARCHAR(32)  NOT NULL PRIMARY KEY,
  sid             VARCHAR(32)  NOT NULL,
  org_id          VARCHAR(64)  NOT NULL,
  user_id         VARCHAR(64)  NOT NULL,
  process_id      VARCHAR(64)  NULL,
  start_event_id  BIGINT UNSIGNED NOT NULL,
  rooms           TEXT         NOT NULL,
  seen_at         DATETIME(3)  NOT NULL,
  KEY relay_sessions_process (process_id),
  KEY relay_sessions_seen (seen_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
