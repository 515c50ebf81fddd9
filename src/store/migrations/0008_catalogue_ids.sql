-- Catalogue schema 8: the catalogue gets an integer key, and the search
-- index is keyed by it instead of holding a copy of every item's text.
--
-- * `catalogue.id` is an INTEGER PRIMARY KEY (an implicit rowid may change
--   at VACUUM; this one never does), and `catalogue_fts.rowid` is that id,
--   so a search joins on integers and a bundle's entries are deleted by id
--   rather than by scanning the index.
-- * The index is contentless (`content=''`): it keeps the tokens, not the
--   text, which the catalogue and the bundle's files already hold.
--   `contentless_delete=1` lets a withdrawn bundle's rows be deleted.
-- * Titles have an index of their own, so that the first tier of a
--   search (title matches) walks only titles' tokens (Store::search).
-- * Prefix indexes of 2 and 3 characters serve what a person types while
--   the word is short ("mu", "mús"), which otherwise merges every term
--   with that prefix.
--
-- The catalogue is derived from the installed bundles, so it is rebuilt
-- rather than copied: emptying `catalogue_indexed` makes the next start-up
-- index every current bundle again (Library::index_content). The person's
-- records never referred to catalogue rows.
DROP TABLE catalogue_fts;
DROP TABLE catalogue;
DELETE FROM catalogue_indexed;
DELETE FROM bundle_groups;

CREATE TABLE catalogue (
    id          INTEGER PRIMARY KEY,
    item        TEXT NOT NULL UNIQUE,
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

-- Accent-insensitive search: "musica" finds "música".
CREATE VIRTUAL TABLE catalogue_fts USING fts5 (
    title, body,
    content = '',
    contentless_delete = 1,
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The same title text alone.
CREATE VIRTUAL TABLE catalogue_title_fts USING fts5 (
    title,
    content = '',
    contentless_delete = 1,
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);
