-- Schema 3: letters. The outbox sequence is this tablet's; the dock keeps
-- UNIQUE(tablet, seq), so a resend after a lost ack changes nothing.

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    person      TEXT NOT NULL,
    contact     TEXT NOT NULL,
    attorney    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    written_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    envelope    BLOB NOT NULL
) STRICT;

CREATE INDEX outbox_by_person ON outbox (person, seq);

CREATE TABLE drafts (
    person      TEXT NOT NULL,
    contact     TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (person, contact)
) STRICT;

CREATE TABLE inbox (
    id           TEXT PRIMARY KEY,
    server_seq   INTEGER NOT NULL UNIQUE,
    person       TEXT NOT NULL,
    contact      TEXT NOT NULL,
    body         TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    read         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sync_cursors (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
) STRICT;
