-- One row per user who has had a relay socket: the lock that serializes
-- the relay processes writing that user's first or last socket, so that
-- user:online and user:offline go out once.  Sessions run READ COMMITTED,
-- which takes no gap locks: a locking count of the user's presence rows
-- locks nothing while there are none, and two relays would both see 0.
-- A flush locks the rows it needs sorted, before any presence row.  Rows
-- are not pruned: one small row per user.
CREATE TABLE IF NOT EXISTS presence_users (
  org_id   VARCHAR(64) NOT NULL,
  user_id  VARCHAR(64) NOT NULL,
  PRIMARY KEY (org_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
