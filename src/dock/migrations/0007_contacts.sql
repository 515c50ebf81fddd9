-- Berth dock, schema 7: contact requests, their invitations, the
-- no-contact list and the addresses that blocked the facility (issue 17).
--
-- A request row is the tablet's signed request (`envelope`, one row per
-- id, so a resend changes nothing) and where it stands. `reason` is what
-- the person reads; `flag` is for staff only (why the dock refused it on
-- its own), and never travels to a tablet. An invitation's token is kept
-- only as its SHA-256, so a copy of this file cannot accept for anyone.
CREATE TABLE contact_requests (
    id              TEXT PRIMARY KEY,
    tablet          TEXT NOT NULL,
    person          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('add', 'remove')),
    name            TEXT NOT NULL,
    relationship    TEXT NOT NULL,
    email           TEXT NOT NULL,
    -- The contact's id on the list: the one to remove, or the new one
    -- once active.
    contact         TEXT NOT NULL DEFAULT '',
    asked_at        TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    envelope        BLOB NOT NULL,
    state           TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    flag            TEXT NOT NULL DEFAULT '',
    token_sha256    TEXT UNIQUE,
    invited_at      TEXT,
    -- The invitation's trip to the facility's relay (as letters').
    invite_sent_at  TEXT,
    invite_attempts INTEGER NOT NULL DEFAULT 0,
    invite_next_try TEXT,
    invite_error    TEXT NOT NULL DEFAULT '',
    decided_by      TEXT NOT NULL DEFAULT '',
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX contact_requests_by_state ON contact_requests (state, received_at);
CREATE INDEX contact_requests_by_person ON contact_requests (person, received_at);

-- People a person must not contact: court orders, victims, witnesses.
CREATE TABLE no_contact (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    person    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    email     TEXT NOT NULL,
    address   TEXT NOT NULL,
    added_by  TEXT NOT NULL,
    added_at  TEXT NOT NULL
) STRICT;
CREATE INDEX no_contact_by_person ON no_contact (person);
CREATE INDEX no_contact_by_email ON no_contact (email);

-- Addresses that answered an invitation with BLOCK: no request to them is
-- sent again, from anyone at this facility.
CREATE TABLE contact_blocks (
    email       TEXT PRIMARY KEY,
    blocked_at  TEXT NOT NULL,
    request     TEXT NOT NULL
) STRICT;
