-- Berth dock, schema 5: a tablet that is not enrolled yet and tries to
-- sync is remembered (its key, which it proved over TLS, and the code its
-- screen shows), so facility IT can enrol it by that code. The dock keeps
-- the most recent 1,000 (`Db::note_unenrolled`).
CREATE TABLE pending_tablets (
    key        TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX pending_tablets_code ON pending_tablets (code);
CREATE INDEX pending_tablets_seen ON pending_tablets (last_seen);
