-- Schema 4: the message feed from the dock. Letters from contacts, copies
-- of letters the person wrote on another tablet, and per-person cursors
-- (in sync_cursors as `feed:PERSON`). Each entry is applied by id, with
-- its cursor, in one transaction.

DROP TABLE inbox;

CREATE TABLE inbox (
    id           TEXT PRIMARY KEY,
    feed_seq     INTEGER NOT NULL,
    person       TEXT NOT NULL,
    contact      TEXT NOT NULL,
    attorney     INTEGER NOT NULL,
    body         TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    read         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX inbox_by_person ON inbox (person, contact, sent_at);

CREATE TABLE sent_elsewhere (
    id           TEXT PRIMARY KEY,
    tablet       TEXT NOT NULL,
    person       TEXT NOT NULL,
    contact      TEXT NOT NULL,
    attorney     INTEGER NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    written_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

CREATE INDEX sent_elsewhere_by_person ON sent_elsewhere (person, contact, written_at);
