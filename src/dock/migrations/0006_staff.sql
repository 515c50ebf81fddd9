-- Berth dock, schema 6: staff accounts, their console sessions, and the
-- staff audit trail (issue 17).
--
-- A password is stored as an argon2id PHC string (trust::password); a
-- session as the SHA-256 of its token, so a copy of this file holds no
-- usable login. The audit trail is hash-chained like the tablet's log:
-- each row's sha256 covers the previous row's and its own fields
-- (dock::staff::chain_hash), so a removed or edited row shows.
CREATE TABLE staff (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change   INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT
);

CREATE TABLE staff_sessions (
    token_sha256 TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES staff (username),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen    TEXT NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (username);

CREATE TABLE staff_audit (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_sha256 TEXT NOT NULL,
    sha256      TEXT NOT NULL
);
CREATE INDEX staff_audit_actor ON staff_audit (actor, seq);
CREATE INDEX staff_audit_target ON staff_audit (target, seq);
