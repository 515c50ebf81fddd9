-- Schema 2: signed documents (roster, policy), people and PINs, login
-- back-off, usage, tablet groups, and the hash-chained audit log, which
-- replaces the plain event log of schema 1 (a hook moves its rows over).

CREATE TABLE documents (
    kind         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    version      INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    envelope     BLOB NOT NULL,
    accepted_at  TEXT NOT NULL,
    PRIMARY KEY (kind, scope)
) STRICT;

CREATE TABLE people (
    id              TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    language        TEXT NOT NULL,
    unit            TEXT NOT NULL,
    enrolment_salt  TEXT NOT NULL,
    enrolment_iter  INTEGER NOT NULL,
    enrolment_hash  TEXT NOT NULL,
    -- The enrolment hash that was used to set the PIN: a code works once.
    enrolled_with   TEXT,
    pin_salt        BLOB,
    pin_iter        INTEGER,
    pin_hash        BLOB,
    active          INTEGER NOT NULL DEFAULT 1,
    -- Personal settings (language override, text size, contrast).
    settings        TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- Failed logins per typed id, whether or not the id exists.
CREATE TABLE login_attempts (
    login_id      TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  TEXT NOT NULL
) STRICT;

CREATE TABLE person_usage (
    person                TEXT PRIMARY KEY,
    session_used_secs     INTEGER NOT NULL DEFAULT 0,
    session_exhausted_at  TEXT
) STRICT;

CREATE TABLE daily_usage (
    person         TEXT NOT NULL,
    day            TEXT NOT NULL,
    metered_secs   INTEGER NOT NULL DEFAULT 0,
    free_secs      INTEGER NOT NULL DEFAULT 0,
    messages       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (person, day)
) STRICT;

CREATE TABLE tablet_groups (
    grp TEXT PRIMARY KEY
) STRICT;

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    person     TEXT,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;

CREATE INDEX audit_by_person ON audit (person, seq);
