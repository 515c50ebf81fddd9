-- Berth dock, schema 2: music entitlements the facility issued, and course
-- certificates tablets uploaded.

CREATE TABLE entitlements (
    id        TEXT PRIMARY KEY,
    person    TEXT NOT NULL,
    item      TEXT NOT NULL,
    envelope  BLOB NOT NULL,
    issued_at TEXT NOT NULL
) STRICT;
CREATE INDEX entitlements_person ON entitlements (person);

CREATE TABLE certificates (
    id          TEXT PRIMARY KEY,
    tablet      TEXT NOT NULL,
    person      TEXT NOT NULL,
    course      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX certificates_person ON certificates (person);
