-- The dock's database. Letters keep UNIQUE(tablet, seq): a resend after a
-- lost ack finds its row and changes nothing.

CREATE TABLE tablets (
    key            TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    groups         TEXT NOT NULL,
    enrolled_at    TEXT NOT NULL,
    revoked_at     TEXT,
    last_sync      TEXT,
    app_version    TEXT NOT NULL DEFAULT '',
    battery        INTEGER,
    tamper_events  INTEGER NOT NULL DEFAULT 0,
    audit_through  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE letters (
    id           TEXT PRIMARY KEY,
    tablet       TEXT NOT NULL REFERENCES tablets (key),
    seq          INTEGER NOT NULL,
    person       TEXT NOT NULL,
    contact      TEXT NOT NULL,
    attorney     INTEGER NOT NULL,
    written_at   TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    envelope     BLOB NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    reviewed_by  TEXT NOT NULL DEFAULT '',
    reviewed_at  TEXT,
    UNIQUE (tablet, seq)
) STRICT;

CREATE INDEX letters_by_state ON letters (state, received_at);

-- Mail from outside, imported by the gateway, waiting for review.
CREATE TABLE inbound (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    person       TEXT NOT NULL,
    contact      TEXT NOT NULL,
    attorney     INTEGER NOT NULL,
    sender       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    reviewed_by  TEXT NOT NULL DEFAULT '',
    reviewed_at  TEXT
) STRICT;

-- Each person's message feed. Entries are signed by the messaging key
-- with their seq inside; tablets pull after their cursor.
CREATE TABLE feed (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    person    TEXT NOT NULL,
    -- The tablet whose own letter this copy is ('' for everything else);
    -- that tablet is not sent its own letters back.
    origin    TEXT NOT NULL DEFAULT '',
    envelope  BLOB NOT NULL
) STRICT;

CREATE INDEX feed_by_person ON feed (person, seq);

-- The newest signed document of each kind and scope.
CREATE TABLE documents (
    kind          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    envelope      BLOB NOT NULL,
    published_at  TEXT NOT NULL,
    PRIMARY KEY (kind, scope)
) STRICT;

-- Who is on which roster (from verified rosters), and each person's
-- approved contacts (from verified contact lists).
CREATE TABLE roster_people (
    person  TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    roster  TEXT NOT NULL
) STRICT;

CREATE TABLE contacts (
    person    TEXT NOT NULL,
    contact   TEXT NOT NULL,
    name      TEXT NOT NULL,
    email     TEXT NOT NULL,
    attorney  INTEGER NOT NULL,
    PRIMARY KEY (person, contact)
) STRICT;

CREATE TABLE bundles (
    manifest_sha256  TEXT PRIMARY KEY,
    bundle_id        TEXT NOT NULL,
    version          INTEGER NOT NULL,
    vendor           TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    state            TEXT NOT NULL,
    groups           TEXT NOT NULL DEFAULT '',
    uploaded_at      TEXT NOT NULL,
    approved_at      TEXT
) STRICT;

-- Each person's use per day, as the tablets report it (the highest figure
-- any tablet reported for that day: reports repeat, and never shrink).
CREATE TABLE usage (
    tablet        TEXT NOT NULL,
    person        TEXT NOT NULL,
    day           TEXT NOT NULL,
    metered_secs  INTEGER NOT NULL,
    free_secs     INTEGER NOT NULL,
    letters       INTEGER NOT NULL,
    PRIMARY KEY (tablet, person, day)
) STRICT;

CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tablet       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    audit_from   INTEGER NOT NULL,
    envelope     BLOB NOT NULL
) STRICT;

-- Refusals worth a person's attention: mail from unapproved senders,
-- refused uploads.
CREATE TABLE refusals (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    what    TEXT NOT NULL,
    reason  TEXT NOT NULL
) STRICT;
