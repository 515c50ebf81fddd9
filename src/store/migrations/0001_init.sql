-- Berth tablet store, schema 1: trust root, installed bundles, rollback
-- high-water marks, the trusted clock and an event log.

CREATE TABLE trust_root (
    version      INTEGER PRIMARY KEY,
    facility     TEXT NOT NULL,
    envelope     BLOB NOT NULL,
    accepted_at  TEXT NOT NULL
) STRICT;

CREATE TABLE bundles (
    manifest_sha256   TEXT PRIMARY KEY,
    bundle_id         TEXT NOT NULL,
    version           INTEGER NOT NULL,
    content_type      TEXT NOT NULL,
    vendor            TEXT NOT NULL,
    title             TEXT NOT NULL,
    total_size        INTEGER NOT NULL,
    file_count        INTEGER NOT NULL,
    manifest_envelope BLOB NOT NULL,
    approval_envelope BLOB NOT NULL,
    installed_at      TEXT NOT NULL,
    UNIQUE (bundle_id, version)
) STRICT;

-- The version each bundle id currently shows. Its row is the only pointer
-- to a directory under content/store/.
CREATE TABLE current_bundle (
    bundle_id       TEXT PRIMARY KEY,
    manifest_sha256 TEXT NOT NULL REFERENCES bundles (manifest_sha256)
) STRICT;

-- Rollback protection: the highest version ever installed, and its content.
CREATE TABLE high_water (
    bundle_id       TEXT PRIMARY KEY,
    version         INTEGER NOT NULL,
    manifest_sha256 TEXT NOT NULL
) STRICT;

CREATE TABLE clock (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_trusted  TEXT NOT NULL,
    boot_id       TEXT NOT NULL,
    monotonic_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;
