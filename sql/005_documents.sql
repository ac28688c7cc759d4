-- Collaborative documents (SPEC §10): an organization's shared JSON
-- documents, visible to the owner, the collaborators and the
-- organization's admins.  The relay authorizes subscribe:document against
-- these rows; document:* events carry the document's id in
-- events.document_id, which names their room, document:{id}.
CREATE TABLE IF NOT EXISTS documents (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id          VARCHAR(64)  NOT NULL,
  owner_id        VARCHAR(64)  NOT NULL,
  title           VARCHAR(200) NOT NULL,
  content         MEDIUMTEXT   NOT NULL,   -- a JSON object, <= 256 KiB
  version         INT UNSIGNED NOT NULL DEFAULT 0,
  lock_user_id    VARCHAR(64)  NULL,
  lock_expires_at DATETIME(3)  NULL,
  created_at      DATETIME(3)  NOT NULL,
  updated_at      DATETIME(3)  NOT NULL,
  KEY documents_org (org_id, id),
  CONSTRAINT documents_org_fk FOREIGN KEY (org_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS document_collaborators (
  document_id BIGINT UNSIGNED NOT NULL,
  user_id     VARCHAR(64)  NOT NULL,
  PRIMARY KEY (document_id, user_id),
  KEY document_collaborators_user (user_id),
  CONSTRAINT document_collaborators_document_fk FOREIGN KEY (document_id)
    REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE events ADD COLUMN IF NOT EXISTS document_id BIGINT UNSIGNED NULL AFTER issue_id;
