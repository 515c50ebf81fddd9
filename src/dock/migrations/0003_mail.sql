-- Berth dock, schema 3: inbound mail is deduplicated by its content, not by
-- a Message-ID any sender sets; one message to two people is two rows. The
-- subject and the list of removed attachments reach staff and the tablet.

CREATE TABLE inbound_v3 (
    id             TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    person         TEXT NOT NULL,
    contact        TEXT NOT NULL,
    attorney       INTEGER NOT NULL,
    sender         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    removed        TEXT NOT NULL DEFAULT '[]',
    sent_at        TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    state          TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_at    TEXT,
    UNIQUE (content_sha256, person)
) STRICT;

INSERT INTO inbound_v3 (id, content_sha256, message_id, person, contact, attorney, sender, subject,
                        body, sent_at, received_at, state, reason, reviewed_by, reviewed_at)
    SELECT id, 'message-id:' || message_id, message_id, person, contact, attorney, sender, subject,
           body, sent_at, received_at, state, reason, reviewed_by, reviewed_at FROM inbound;

DROP TABLE inbound;
ALTER TABLE inbound_v3 RENAME TO inbound;
CREATE INDEX inbound_by_state ON inbound (state, received_at);
