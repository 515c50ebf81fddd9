//! Repositories for content: the catalogue (derived from installed
//! bundles, with its FTS5 index) and the person's own records, which are
//! keyed by the vendor's ids and never by a bundle, so removing or
//! replacing a bundle keeps them.

use super::CachedSql;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, audit, ts};

/// One catalogue entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogueRow {
    pub item: String,
    pub kind: String,
    pub ref_id: String,
    pub bundle_id: String,
    pub manifest: String,
    pub parent: Option<String>,
    pub position: u32,
    pub title: String,
    pub title_es: Option<String>,
    pub subtitle: String,
    pub subject: String,
    pub path: String,
    /// JSON: per kind (narration, free, duration, cover, unit, …).
    pub extra: String,
}

/// A search's filters.
#[derive(Clone, Debug, Default)]
pub struct SearchFilter<'a> {
    pub kinds: &'a [&'a str],
    pub subject: Option<&'a str>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuizBest {
    pub quiz: String,
    pub correct: u32,
    pub total: u32,
    pub passed: bool,
    pub attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRow {
    pub id: String,
    pub person: String,
    pub course: String,
    pub envelope: Vec<u8>,
    pub created_at: String,
    pub uploaded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bookmark {
    pub para: u32,
    pub excerpt: String,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerState {
    pub queue: Vec<String>,
    pub index: usize,
    pub position_ms: u64,
    pub playing: bool,
}

const COLS: &str = "c.item, c.kind, c.ref, c.bundle_id, c.manifest, c.parent, c.position, \
                    c.title, c.title_es, c.subtitle, c.subject, c.path, c.extra";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CatalogueRow> {
    Ok(CatalogueRow {
        item: r.get(0)?,
        kind: r.get(1)?,
        ref_id: r.get(2)?,
        bundle_id: r.get(3)?,
        manifest: r.get(4)?,
        parent: r.get(5)?,
        position: r.get::<_, i64>(6)? as u32,
        title: r.get(7)?,
        title_es: r.get(8)?,
        subtitle: r.get(9)?,
        subject: r.get(10)?,
        path: r.get(11)?,
        extra: r.get(12)?,
    })
}

/// Visible to a person: the bundle is approved for one of their groups.
const VISIBLE: &str = "c.bundle_id IN (SELECT bundle_id FROM bundle_groups WHERE grp IN \
                       (SELECT value FROM json_each(?1)))";

/// How many visible matches a search tier ranks (see [`Store::search`]).
pub const SEARCH_CANDIDATES: usize = 500;

/// Turn what a person typed into an FTS5 query: each word a quoted
/// prefix, all required. Nothing typed can be FTS syntax.
pub fn fts_query(typed: &str) -> Option<String> {
    let words: Vec<String> = typed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl Store {
    /// Run a query and collect its rows.
    pub(super) fn list<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut st = self.conn.prepare_cached(sql).map_err(self.sq())?;
        let rows = st
            .query_map(params, f)
            .map_err(self.sq())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.sq())?;
        Ok(rows)
    }

    /// Replace a bundle's catalogue entries with a new set, in one
    /// transaction (a crash leaves the old entries or the new).
    pub fn index_bundle(
        &mut self,
        bundle_id: &str,
        manifest: &str,
        groups: &[String],
        rows: &[CatalogueRow],
        bodies: &[(String, String)],
        problems: &str,
    ) -> Result<()> {
        self.tx_run(|tx| {
            clear_bundle(tx, bundle_id)?;
            {
                let mut ins = tx
                    .prepare(
                        "INSERT INTO catalogue (item, kind, ref, bundle_id, manifest, parent, position, \
                         title, title_es, subtitle, subject, path, extra) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    )
                    ?;
                let mut fts = tx.prepare(
                    "INSERT INTO catalogue_fts (rowid, title, body) VALUES (?1, ?2, ?3)",
                )?;
                let mut title_fts = tx.prepare(
                    "INSERT INTO catalogue_title_fts (rowid, title) VALUES (?1, ?2)",
                )?;
                // Each row's id and title words, for its index entry.
                let mut ids = std::collections::HashMap::with_capacity(rows.len());
                for r in rows {
                    ins.execute(params![
                        r.item,
                        r.kind,
                        r.ref_id,
                        bundle_id,
                        manifest,
                        r.parent,
                        r.position as i64,
                        r.title,
                        r.title_es,
                        r.subtitle,
                        r.subject,
                        r.path,
                        r.extra
                    ])?;
                    ids.insert(r.item.as_str(), (tx.last_insert_rowid(), r));
                }
                for (item, body) in bodies {
                    // A body without its row has nothing to show; skip it.
                    let Some((id, r)) = ids.get(item.as_str()) else {
                        continue;
                    };
                    let title = format!(
                        "{} {} {}",
                        r.title,
                        r.title_es.as_deref().unwrap_or_default(),
                        r.subtitle
                    );
                    fts.execute(params![id, title, body])?;
                    title_fts.execute(params![id, title])?;
                }
                let mut g = tx
                    .prepare("INSERT OR IGNORE INTO bundle_groups (bundle_id, grp) VALUES (?1, ?2)")
                    ?;
                for grp in groups {
                    g.execute(params![bundle_id, grp])?;
                }
            }
            tx.cached_exec(
                "INSERT INTO catalogue_indexed (bundle_id, manifest, problems) VALUES (?1, ?2, ?3)",
                params![bundle_id, manifest, problems],
            )
            ?;
            Ok(())
        })
    }

    /// Current bundles whose catalogue entries are missing or stale (a
    /// crash between install and indexing, or an older schema).
    pub fn unindexed_bundles(&self) -> Result<Vec<(String, String, String)>> {
        self.list(
            "SELECT cb.bundle_id, cb.manifest_sha256, b.content_type FROM current_bundle cb \
                 JOIN bundles b ON b.manifest_sha256 = cb.manifest_sha256 \
                 LEFT JOIN catalogue_indexed ci ON ci.bundle_id = cb.bundle_id \
                 WHERE ci.manifest IS NOT cb.manifest_sha256 ORDER BY cb.bundle_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Index entries of bundles no longer current (withdrawn), if any.
    pub fn stale_index(&self) -> Result<Vec<String>> {
        self.list(
            "SELECT bundle_id FROM catalogue_indexed WHERE bundle_id NOT IN \
                 (SELECT bundle_id FROM current_bundle)",
            [],
            |r| r.get(0),
        )
    }

    /// Stop showing a bundle: its current pointer and catalogue entries go
    /// in one transaction, with an audit entry. The person's records and
    /// the rollback high-water mark stay; the files are removed as orphans.
    pub fn remove_bundle(
        &mut self,
        bundle_id: &str,
        now: DateTime<Utc>,
        why: &str,
    ) -> Result<bool> {
        self.tx_run(|tx| {
            let n = tx.cached_exec(
                "DELETE FROM current_bundle WHERE bundle_id = ?1",
                [bundle_id],
            )?;
            clear_bundle(tx, bundle_id)?;
            if n > 0 {
                audit::append(
                    tx,
                    now,
                    None,
                    crate::audit::kind::BUNDLE_REMOVED,
                    &format!("{bundle_id}: {why}"),
                )?;
            }
            Ok(n > 0)
        })
    }

    pub fn catalogue_item(&self, item: &str) -> Result<Option<CatalogueRow>> {
        self.conn
            .cached_row(
                &format!("SELECT {COLS} FROM catalogue c WHERE c.item = ?1"),
                [item],
                row,
            )
            .optional()
            .map_err(self.sq())
    }

    /// Whether an item (a course, book, album, or a lesson or track of
    /// one) is approved for one of `groups`.
    pub fn is_visible(&self, item: &str, groups: &[String]) -> Result<bool> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        self.conn
            .cached_row(
                &format!("SELECT 1 FROM catalogue c WHERE c.item = ?2 AND {VISIBLE}"),
                params![g, item],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(self.sq())
    }

    /// Top-level items of a kind visible to `groups`, by title.
    pub fn catalogue(
        &self,
        kind: &str,
        groups: &[String],
        subject: Option<&str>,
    ) -> Result<Vec<CatalogueRow>> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        self.list(
            &format!(
                "SELECT {COLS} FROM catalogue c WHERE {VISIBLE} AND c.kind = ?2 \
                 AND (?3 IS NULL OR c.subject = ?3) ORDER BY c.title COLLATE NOCASE, c.item"
            ),
            params![g, kind, subject],
            row,
        )
    }

    /// Children of a course (lessons) or album (tracks), in order.
    pub fn children(&self, parent: &str) -> Result<Vec<CatalogueRow>> {
        self.list(
            &format!("SELECT {COLS} FROM catalogue c WHERE c.parent = ?1 ORDER BY c.position"),
            [parent],
            row,
        )
    }

    /// Tracks visible to `groups` (of one artist, when given), by artist,
    /// album title and track number: `limit` of them from `offset`. The
    /// Music page's list fetches what is on screen, a page at a time.
    /// Each row comes with its album's title.
    pub fn tracks_page(
        &self,
        groups: &[String],
        artist: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(CatalogueRow, String)>> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        self.list(
            &format!(
                "SELECT {COLS}, coalesce(a.title, '') FROM catalogue c \
                 LEFT JOIN catalogue a ON a.item = c.parent \
                 WHERE {VISIBLE} AND c.kind = 'track' AND (?2 IS NULL OR c.subtitle = ?2) \
                 ORDER BY c.subtitle, a.title, c.position, c.item LIMIT ?3 OFFSET ?4"
            ),
            params![g, artist, limit as i64, offset as i64],
            |r| Ok((row(r)?, r.get(13)?)),
        )
    }

    /// How many tracks [`Store::tracks_page`] lists.
    pub fn track_count(&self, groups: &[String], artist: Option<&str>) -> Result<usize> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        self.conn
            .cached_row(
                &format!(
                    "SELECT count(*) FROM catalogue c WHERE {VISIBLE} AND c.kind = 'track' \
                     AND (?2 IS NULL OR c.subtitle = ?2)"
                ),
                params![g, artist],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(self.sq())
    }

    /// Artists of the visible tracks with how many tracks each, by name.
    pub fn artists(&self, groups: &[String]) -> Result<Vec<(String, u32)>> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        self.list(
            &format!(
                "SELECT c.subtitle, count(*) FROM catalogue c WHERE {VISIBLE} \
                 AND c.kind = 'track' GROUP BY c.subtitle ORDER BY c.subtitle"
            ),
            params![g],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u32)),
        )
    }

    /// Catalogue entries of a kind whose vendor id is `ref_id` (a track
    /// carried by two bundles appears twice; the caller picks one).
    pub fn by_ref(&self, kind: &str, ref_id: &str, groups: &[String]) -> Result<Vec<CatalogueRow>> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        self.list(
            &format!(
                "SELECT {COLS} FROM catalogue c WHERE {VISIBLE} AND c.kind = ?2 AND c.ref = ?3 \
                 ORDER BY c.item"
            ),
            params![g, kind, ref_id],
            row,
        )
    }

    /// Full-text search over titles, descriptions and lesson text,
    /// accent-insensitive, best match first.
    ///
    /// Ranking is bounded so that a word in most of the catalogue costs
    /// no more than a rare one. Two tiers, each ranked with bm25 over at
    /// most [`SEARCH_CANDIDATES`] visible matches: items whose title
    /// matches come first, then, if they do not fill `limit`, items that
    /// match anywhere. A tier with fewer matches than the bound is ranked
    /// exactly; a larger one ranks the first matches in index order.
    /// Visibility and the filters apply before the bound, so a person who
    /// sees few bundles still finds theirs.
    pub fn search(
        &self,
        typed: &str,
        groups: &[String],
        f: &SearchFilter<'_>,
    ) -> Result<Vec<CatalogueRow>> {
        let Some(q) = fts_query(typed) else {
            return Ok(Vec::new());
        };
        let limit = f.limit.clamp(1, 500);
        let g = serde_json::to_string(groups).unwrap_or_default();
        let kinds = serde_json::to_string(f.kinds).unwrap_or_default();
        // One tier: up to SEARCH_CANDIDATES visible matches in `fts`,
        // ranked by that index's bm25.
        let tier = |fts: &str| {
            format!(
                "WITH hits AS MATERIALIZED (\
                   SELECT f.rowid AS id, f.rank AS rank FROM {fts} f \
                   JOIN catalogue c ON c.id = f.rowid \
                   WHERE {fts} MATCH ?2 AND {VISIBLE} \
                   AND (?3 = '[]' OR c.kind IN (SELECT value FROM json_each(?3))) \
                   AND (?4 IS NULL OR c.subject = ?4) \
                   LIMIT {SEARCH_CANDIDATES}) \
                 SELECT {COLS} FROM hits JOIN catalogue c ON c.id = hits.id \
                 ORDER BY hits.rank, c.id LIMIT ?5"
            )
        };
        let p = params![g, q, kinds, f.subject, limit as i64];
        let mut found = self.list(&tier("catalogue_title_fts"), p, row)?;
        if found.len() < limit {
            for r in self.list(&tier("catalogue_fts"), p, row)? {
                if found.len() == limit {
                    break;
                }
                if !found.iter().any(|h| h.item == r.item) {
                    found.push(r);
                }
            }
        }
        Ok(found)
    }

    /// Subjects of a kind visible to `groups`.
    pub fn subjects(&self, kinds: &[&str], groups: &[String]) -> Result<Vec<String>> {
        let g = serde_json::to_string(groups).unwrap_or_default();
        let k = serde_json::to_string(kinds).unwrap_or_default();
        self.list(
            &format!(
                "SELECT DISTINCT c.subject FROM catalogue c WHERE {VISIBLE} \
                 AND c.kind IN (SELECT value FROM json_each(?2)) AND c.subject != '' ORDER BY 1"
            ),
            params![g, k],
            |r| r.get(0),
        )
    }

    // ------------------------------------------------------------ learning

    pub fn mark_lesson_done(
        &mut self,
        person: &str,
        course: &str,
        lesson: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .cached_exec(
                "INSERT OR IGNORE INTO lesson_progress (person, course, lesson, done_at) VALUES (?1, ?2, ?3, ?4)",
                params![person, course, lesson, ts(&at)],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    pub fn lessons_done(&self, person: &str, course: &str) -> Result<Vec<String>> {
        self.list(
            "SELECT lesson FROM lesson_progress WHERE person = ?1 AND course = ?2",
            params![person, course],
            |r| r.get(0),
        )
    }

    pub fn set_resume(
        &mut self,
        person: &str,
        course: &str,
        place: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .cached_exec(
                "INSERT INTO course_resume (person, course, place, at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (person, course) DO UPDATE SET place = excluded.place, at = excluded.at",
                params![person, course, place, ts(&at)],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    pub fn resume(&self, person: &str, course: &str) -> Result<Option<String>> {
        self.conn
            .cached_row(
                "SELECT place FROM course_resume WHERE person = ?1 AND course = ?2",
                params![person, course],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sq())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record_quiz(
        &mut self,
        person: &str,
        course: &str,
        quiz: &str,
        correct: u32,
        total: u32,
        passed: bool,
        answers: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec(
                "INSERT INTO quiz_attempts (person, course, quiz, correct, total, passed, answers, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![person, course, quiz, correct, total, passed, answers, ts(&at)],
            )
            ?;
            audit::append(
                tx,
                at,
                Some(person),
                crate::audit::kind::QUIZ,
                &format!("{course} {quiz}: {correct}/{total}{}", if passed { " passed" } else { "" }),
            )
            ?;
            Ok(())
        })
    }

    /// Each quiz's best attempt in a course.
    pub fn quiz_best(&self, person: &str, course: &str) -> Result<Vec<QuizBest>> {
        self.list(
            "SELECT quiz, MAX(correct), total, MAX(passed), COUNT(*) FROM quiz_attempts \
                 WHERE person = ?1 AND course = ?2 GROUP BY quiz ORDER BY quiz",
            params![person, course],
            |r| {
                Ok(QuizBest {
                    quiz: r.get(0)?,
                    correct: r.get::<_, i64>(1)? as u32,
                    total: r.get::<_, i64>(2)? as u32,
                    passed: r.get::<_, i64>(3)? != 0,
                    attempts: r.get::<_, i64>(4)? as u32,
                })
            },
        )
    }

    /// Keep a certificate (once per person and course). `false` if one is
    /// already held.
    pub fn add_certificate(
        &mut self,
        id: &str,
        person: &str,
        course: &str,
        envelope: &[u8],
        at: DateTime<Utc>,
    ) -> Result<bool> {
        self.tx_run(|tx| {
            let n = tx.cached_exec(
                "INSERT OR IGNORE INTO certificates (id, person, course, envelope, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, person, course, envelope, ts(&at)],
            )?;
            if n > 0 {
                audit::append(
                    tx,
                    at,
                    Some(person),
                    crate::audit::kind::CERTIFICATE,
                    &format!("{course}: certificate {id}"),
                )?;
            }
            Ok(n > 0)
        })
    }

    pub fn certificates_for(&self, person: &str) -> Result<Vec<CertificateRow>> {
        self.certificates_where("person = ?1 ORDER BY created_at", [person])
    }

    pub fn pending_certificates(&self, limit: usize) -> Result<Vec<CertificateRow>> {
        self.certificates_where(
            "uploaded_at IS NULL ORDER BY created_at LIMIT ?1",
            [limit.min(i64::MAX as usize) as i64],
        )
    }

    /// Certificates matching `tail` (a WHERE condition and its LIMIT).
    fn certificates_where(
        &self,
        tail: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<CertificateRow>> {
        self.list(
            &format!(
                "SELECT id, person, course, envelope, created_at, uploaded_at IS NOT NULL \
                 FROM certificates WHERE {tail}"
            ),
            p,
            |r| {
                Ok(CertificateRow {
                    id: r.get(0)?,
                    person: r.get(1)?,
                    course: r.get(2)?,
                    envelope: r.get(3)?,
                    created_at: r.get(4)?,
                    uploaded: r.get(5)?,
                })
            },
        )
    }

    pub fn mark_certificates_uploaded(
        &mut self,
        ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<usize> {
        self.tx_run(|tx| {
            let mut n = 0;
            for id in ids {
                n += tx
                    .cached_exec(
                        "UPDATE certificates SET uploaded_at = ?2 WHERE id = ?1 AND uploaded_at IS NULL",
                        params![id, ts(&at)],
                    )
                    ?;
            }
            Ok(n)
        })
    }

    // ------------------------------------------------------------ books

    pub fn book_position(&self, person: &str, book: &str) -> Result<Option<u32>> {
        self.conn
            .cached_row(
                "SELECT para FROM book_positions WHERE person = ?1 AND book = ?2",
                params![person, book],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|o| o.map(|v| v as u32))
            .map_err(self.sq())
    }

    pub fn set_book_position(
        &mut self,
        person: &str,
        book: &str,
        para: u32,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .cached_exec(
                "INSERT INTO book_positions (person, book, para, at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (person, book) DO UPDATE SET para = excluded.para, at = excluded.at",
                params![person, book, para as i64, ts(&at)],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    pub fn bookmarks(&self, person: &str, book: &str) -> Result<Vec<Bookmark>> {
        self.list(
            "SELECT para, excerpt, at FROM bookmarks WHERE person = ?1 AND book = ?2 ORDER BY para",
            params![person, book],
            |r| {
                Ok(Bookmark {
                    para: r.get::<_, i64>(0)? as u32,
                    excerpt: r.get(1)?,
                    at: r.get(2)?,
                })
            },
        )
    }

    /// Add a bookmark, or remove it if there is one at `para`. Returns
    /// whether a bookmark is there now.
    pub fn toggle_bookmark(
        &mut self,
        person: &str,
        book: &str,
        para: u32,
        excerpt: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let removed = self
            .conn
            .cached_exec(
                "DELETE FROM bookmarks WHERE person = ?1 AND book = ?2 AND para = ?3",
                params![person, book, para as i64],
            )
            .map_err(self.sq())?;
        if removed > 0 {
            return Ok(false);
        }
        self.conn
            .cached_exec(
                "INSERT INTO bookmarks (person, book, para, excerpt, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![person, book, para as i64, excerpt, ts(&at)],
            )
            .map_err(self.sq())?;
        Ok(true)
    }

    // ------------------------------------------------------------ music

    /// Keep a verified receipt; `false` if it was already held.
    pub fn add_entitlement_in(
        tx: &rusqlite::Connection,
        id: &str,
        person: &str,
        item: &str,
        envelope: &[u8],
        at: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        Ok(tx.cached_exec(
            "INSERT OR IGNORE INTO entitlements (id, person, item, envelope, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, person, item, envelope, ts(&at)],
        )? > 0)
    }

    /// Keep a verified receipt outside a feed (a receipt carried by hand).
    pub fn add_entitlement(
        &mut self,
        id: &str,
        person: &str,
        item: &str,
        envelope: &[u8],
        at: DateTime<Utc>,
    ) -> Result<bool> {
        self.tx_run(|tx| {
            let new = Store::add_entitlement_in(tx, id, person, item, envelope, at)?;
            if new {
                audit::append(
                    tx,
                    at,
                    Some(person),
                    crate::audit::kind::ENTITLEMENT,
                    &format!("{item} (receipt {id})"),
                )?;
            }
            Ok(new)
        })
    }

    /// The items (`album:ID`, `track:ID`) a person may play.
    pub fn entitlements_for(&self, person: &str) -> Result<Vec<String>> {
        self.list(
            "SELECT DISTINCT item FROM entitlements WHERE person = ?1 ORDER BY item",
            [person],
            |r| r.get(0),
        )
    }

    pub fn create_playlist(&mut self, person: &str, name: &str, at: DateTime<Utc>) -> Result<i64> {
        self.conn
            .cached_exec(
                "INSERT OR IGNORE INTO playlists (person, name, created_at) VALUES (?1, ?2, ?3)",
                params![person, name, ts(&at)],
            )
            .map_err(self.sq())?;
        self.conn
            .cached_row(
                "SELECT id FROM playlists WHERE person = ?1 AND name = ?2",
                params![person, name],
                |r| r.get(0),
            )
            .map_err(self.sq())
    }

    pub fn playlists(&self, person: &str) -> Result<Vec<(i64, String, u32)>> {
        self.list(
            "SELECT p.id, p.name, (SELECT COUNT(*) FROM playlist_tracks t WHERE t.playlist = p.id) \
                 FROM playlists p WHERE p.person = ?1 ORDER BY p.name COLLATE NOCASE",
            [person],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u32)),
        )
    }

    /// Append a track (by its vendor-neutral id) to a person's playlist.
    pub fn add_to_playlist(&mut self, person: &str, playlist: i64, track: &str) -> Result<bool> {
        let n = self
            .conn
            .cached_exec(
                "INSERT INTO playlist_tracks (playlist, position, track) \
                 SELECT p.id, COALESCE((SELECT MAX(position) + 1 FROM playlist_tracks WHERE playlist = p.id), 0), ?3 \
                 FROM playlists p WHERE p.id = ?2 AND p.person = ?1",
                params![person, playlist, track],
            )
            .map_err(self.sq())?;
        Ok(n > 0)
    }

    pub fn playlist_tracks(&self, person: &str, playlist: i64) -> Result<Vec<String>> {
        self.list(
            "SELECT t.track FROM playlist_tracks t JOIN playlists p ON p.id = t.playlist \
                 WHERE p.person = ?1 AND p.id = ?2 ORDER BY t.position",
            params![person, playlist],
            |r| r.get(0),
        )
    }

    pub fn save_player(&mut self, person: &str, s: &PlayerState, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .cached_exec(
                "INSERT INTO player_state (person, queue, idx, position_ms, playing, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (person) DO UPDATE SET queue = excluded.queue, idx = excluded.idx, \
                 position_ms = excluded.position_ms, playing = excluded.playing, at = excluded.at",
                params![
                    person,
                    serde_json::to_string(&s.queue).unwrap_or_default(),
                    s.index as i64,
                    s.position_ms as i64,
                    s.playing,
                    ts(&at)
                ],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    pub fn player(&self, person: &str) -> Result<Option<PlayerState>> {
        let r = self
            .conn
            .cached_row(
                "SELECT queue, idx, position_ms, playing FROM player_state WHERE person = ?1",
                [person],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(self.sq())?;
        Ok(r.map(|(q, i, p, playing)| PlayerState {
            queue: serde_json::from_str(&q).unwrap_or_default(),
            index: i.max(0) as usize,
            position_ms: p.max(0) as u64,
            playing,
        }))
    }
}

fn clear_bundle(tx: &rusqlite::Connection, bundle_id: &str) -> rusqlite::Result<()> {
    for fts in ["catalogue_fts", "catalogue_title_fts"] {
        tx.cached_exec(
            &format!(
                "DELETE FROM {fts} WHERE rowid IN (SELECT id FROM catalogue WHERE bundle_id = ?1)"
            ),
            [bundle_id],
        )?;
    }
    tx.cached_exec("DELETE FROM catalogue WHERE bundle_id = ?1", [bundle_id])?;
    tx.cached_exec(
        "DELETE FROM bundle_groups WHERE bundle_id = ?1",
        [bundle_id],
    )?;
    tx.cached_exec(
        "DELETE FROM catalogue_indexed WHERE bundle_id = ?1",
        [bundle_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_text_never_becomes_fts_syntax() {
        assert_eq!(
            fts_query("música  clásica").as_deref(),
            Some("\"música\"* \"clásica\"*")
        );
        assert_eq!(
            fts_query("a\" OR NEAR(x* -y").as_deref(),
            Some("\"a\"* \"OR\"* \"NEAR\"* \"x\"* \"y\"*")
        );
        assert_eq!(fts_query("  ** "), None);
    }
}
