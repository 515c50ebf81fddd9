-- Berth tablet store, schema 5: the content catalogue (derived from
-- installed bundles, rebuilt at will) and the person's own records, which
-- never depend on a bundle: progress, quiz attempts, certificates, reading
-- positions, bookmarks, entitlements, playlists and the player's state.

-- One row per course, lesson, book, album and track of a current bundle.
-- `item` is `<kind>:<bundle id>/<ref>`; `ref` is the vendor's id (course
-- id, lesson file, book id, album UPC, track ISRC), which records key on.
CREATE TABLE catalogue (
    item        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('course', 'lesson', 'book', 'album', 'track')),
    ref         TEXT NOT NULL,
    bundle_id   TEXT NOT NULL,
    manifest    TEXT NOT NULL,
    parent      TEXT,
    position    INTEGER NOT NULL DEFAULT 0,
    title       TEXT NOT NULL,
    title_es    TEXT,
    subtitle    TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    path        TEXT NOT NULL DEFAULT '',
    extra       TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX catalogue_kind ON catalogue (kind, subject, title);
CREATE INDEX catalogue_parent ON catalogue (parent, position);
CREATE INDEX catalogue_bundle ON catalogue (bundle_id);
CREATE INDEX catalogue_ref ON catalogue (kind, ref);

-- The groups a current bundle is approved for (from its approval).
CREATE TABLE bundle_groups (
    bundle_id TEXT NOT NULL,
    grp       TEXT NOT NULL,
    PRIMARY KEY (bundle_id, grp)
) STRICT;

-- Which installed manifests are indexed, and what was skipped.
CREATE TABLE catalogue_indexed (
    bundle_id TEXT PRIMARY KEY,
    manifest  TEXT NOT NULL,
    problems  TEXT NOT NULL
) STRICT;

-- Accent-insensitive search: "musica" finds "música".
CREATE VIRTUAL TABLE catalogue_fts USING fts5 (
    item UNINDEXED, title, body,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE lesson_progress (
    person    TEXT NOT NULL,
    course    TEXT NOT NULL,
    lesson    TEXT NOT NULL,
    done_at   TEXT NOT NULL,
    PRIMARY KEY (person, course, lesson)
) STRICT;

-- Where the person was in each course: the lesson (or quiz) they last opened.
CREATE TABLE course_resume (
    person  TEXT NOT NULL,
    course  TEXT NOT NULL,
    place   TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (person, course)
) STRICT;

CREATE TABLE quiz_attempts (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    person   TEXT NOT NULL,
    course   TEXT NOT NULL,
    quiz     TEXT NOT NULL,
    correct  INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    passed   INTEGER NOT NULL,
    answers  TEXT NOT NULL,
    at       TEXT NOT NULL
) STRICT;
CREATE INDEX quiz_attempts_person ON quiz_attempts (person, course, quiz);

-- Signed by this tablet's device key; uploaded at the next dock.
CREATE TABLE certificates (
    id          TEXT PRIMARY KEY,
    person      TEXT NOT NULL,
    course      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    uploaded_at TEXT,
    UNIQUE (person, course)
) STRICT;

CREATE TABLE book_positions (
    person  TEXT NOT NULL,
    book    TEXT NOT NULL,
    para    INTEGER NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (person, book)
) STRICT;

CREATE TABLE bookmarks (
    person  TEXT NOT NULL,
    book    TEXT NOT NULL,
    para    INTEGER NOT NULL,
    excerpt TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (person, book, para)
) STRICT;

-- Receipts signed by the facility; they arrive in the person's feed.
CREATE TABLE entitlements (
    id          TEXT PRIMARY KEY,
    person      TEXT NOT NULL,
    item        TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX entitlements_person ON entitlements (person, item);

CREATE TABLE playlists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (person, name)
) STRICT;

CREATE TABLE playlist_tracks (
    playlist INTEGER NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    track    TEXT NOT NULL,
    PRIMARY KEY (playlist, position)
) STRICT;

-- What the person was listening to, so it resumes after the next login.
CREATE TABLE player_state (
    person      TEXT PRIMARY KEY,
    queue       TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    position_ms INTEGER NOT NULL,
    playing     INTEGER NOT NULL,
    at          TEXT NOT NULL
) STRICT;
