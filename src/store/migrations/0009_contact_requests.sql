-- Schema 9: contact requests the person made (issue 17). A request made
-- here keeps its signed envelope until the dock acknowledges it; one made
-- on another tablet arrives by the feed, with no envelope.
CREATE TABLE contact_requests (
    id           TEXT PRIMARY KEY,
    person       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    relationship TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    contact      TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    asked_at     TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    envelope     BLOB,
    uploaded_at  TEXT
) STRICT;

CREATE INDEX contact_requests_by_person ON contact_requests (person, asked_at);
