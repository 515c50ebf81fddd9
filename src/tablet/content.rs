//! The tablet's content: indexing installed bundles into the catalogue,
//! what each person may see and play, learning progress and certificates,
//! reading positions and bookmarks, playlists and the player's state.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Tablet;
use super::people::{Error, Result, Session};
use crate::content::{self, Depth, Indexed};
use crate::domain::ContentType;
use crate::domain::content::{CertificateDoc, CourseDoc, Lesson, Para, QuizDoc, QuizResult};
use crate::store::{Bookmark, CatalogueRow, PlayerState, SearchFilter};

/// A course as the Learn page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseCard {
    pub item: String,
    pub title: String,
    pub description: String,
    pub subject: String,
    pub lessons: u32,
    pub done: u32,
    pub quizzes: u32,
    pub passed: u32,
    pub certified: bool,
}

/// One step of a course: a lesson or a unit's quiz.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseStep {
    /// `lesson:N` or `quiz:N` (N counts from 0 within the course).
    pub place: String,
    pub unit: usize,
    pub unit_title: String,
    pub title: String,
    pub done: bool,
    /// For a quiz: best score as "correct/total".
    pub score: Option<String>,
    pub narrated: bool,
}

#[derive(Clone, Debug)]
pub struct CourseView {
    pub card: CourseCard,
    pub steps: Vec<CourseStep>,
    /// Where to resume: the place last opened if it is not done, else the
    /// first not done; `None` once every step is done.
    pub resume: Option<String>,
}

/// A lesson ready to show.
#[derive(Clone, Debug)]
pub struct LessonView {
    pub title: String,
    pub lesson: Lesson,
    /// Directory that image paths are relative to.
    pub base: PathBuf,
    pub audio: Option<PathBuf>,
    pub index: usize,
    pub count: usize,
    pub done: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookCard {
    pub item: String,
    pub title: String,
    pub author: String,
    pub subject: String,
    pub free: bool,
    /// Paragraph the person reached, if they opened it.
    pub position: Option<u32>,
    pub paras: u32,
}

#[derive(Clone, Debug)]
pub struct BookView {
    pub card: BookCard,
    pub paras: Vec<Para>,
    pub bookmarks: Vec<Bookmark>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackRow {
    pub item: String,
    pub ref_id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub album_item: String,
    pub number: u32,
    pub duration_ms: u64,
    pub playable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlbumRow {
    pub item: String,
    pub ref_id: String,
    pub title: String,
    pub artist: String,
    pub genre: String,
    pub cover: Option<PathBuf>,
    pub tracks: u32,
    pub playable: u32,
}

/// What finishing a step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completed {
    Step,
    /// The course is complete; a certificate was signed.
    Certified(CertificateDoc),
}

/// Why content could not be shown or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentRefusal {
    #[error("{0} is not on this tablet")]
    NotHere(String),
    #[error("{0} is not approved for you")]
    NotApproved(String),
    #[error("{0} does not exist")]
    NoSuchStep(String),
    #[error("{path}: {why}")]
    Unreadable { path: PathBuf, why: String },
    #[error("{0} is not on this tablet's roster; the receipt waits at the dock")]
    ReceiptForAnotherPerson(String),
    #[error("{0} is not in your music; ask staff about buying it")]
    NotEntitled(String),
    #[error("a playlist name has 1 to 60 letters")]
    PlaylistName,
}

fn unreadable(path: &std::path::Path, why: impl std::fmt::Display) -> ContentRefusal {
    ContentRefusal::Unreadable {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

impl From<ContentRefusal> for Error {
    fn from(r: ContentRefusal) -> Self {
        Error::Refused(r.into())
    }
}

fn extra(r: &CatalogueRow) -> serde_json::Value {
    serde_json::from_str(&r.extra).unwrap_or_default()
}

/// A certificate's id, from what it certifies: the same person, course,
/// moment and tablet give the same id, so a retried certification is the
/// same certificate (a UUID of the custom kind, from SHA-256).
fn certificate_id(
    person: &str,
    course: &str,
    at: DateTime<Utc>,
    tablet: &crate::domain::PublicKey,
) -> String {
    let h = crate::trust::digest::sha256(
        format!(
            "berth certificate\n{person}\n{course}\n{}\n{tablet}",
            at.to_rfc3339()
        )
        .as_bytes(),
    );
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.0[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid().to_string()
}

/// A certificate as the person's page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateCard {
    pub doc: CertificateDoc,
    /// The course's title in the person's language.
    pub course_title: String,
    /// `domain::content::certificate_code` of the signed file.
    pub code: String,
    /// Sent to the dock, so staff have it.
    pub uploaded: bool,
}

fn title_in(r: &CatalogueRow, lang: &str) -> String {
    match (&r.title_es, lang) {
        (Some(t), "es") if !t.is_empty() => t.clone(),
        _ => r.title.clone(),
    }
}

fn step_place(kind: &str, n: usize) -> String {
    format!("{kind}:{n}")
}

/// Courses, books and music: the catalogue and the person's records.
pub struct Library<'a> {
    pub(super) t: &'a mut Tablet,
}

impl Tablet {
    pub fn library(&mut self) -> Library<'_> {
        Library { t: self }
    }
}

impl Library<'_> {
    /// The course a lesson belongs to, and the lesson's place in it.
    pub fn lesson_place(&self, item: &str) -> Result<Option<(String, u32)>> {
        Ok(self
            .t
            .store
            .catalogue_item(item)?
            .and_then(|r| r.parent.map(|p| (p, r.position))))
    }

    /// Index every current bundle not yet in the catalogue, and drop the
    /// entries of bundles no longer current. Runs at start-up and after
    /// each install, so a crash in between only delays indexing.
    pub fn index_content(&mut self) -> Result<usize> {
        let now = self.t.trusted_now()?;
        for stale in self.t.store.stale_index()? {
            self.t
                .store
                .remove_bundle(&stale, now, "no longer current")?;
        }
        let pending = self.t.store.unindexed_bundles()?;
        let mut n = 0;
        for (bundle_id, manifest, ct) in pending {
            let Some(ct) = ContentType::ALL.into_iter().find(|c| c.as_str() == ct) else {
                continue;
            };
            let dir = self.t.content_path(&manifest);
            let ix = content::index(&dir, ct, Depth::Headers);
            let groups = self.approval_groups(&manifest);
            let (rows, bodies) = catalogue_rows(&bundle_id, &ix);
            let problems: Vec<String> = ix.problems.iter().map(|p| p.to_string()).collect();
            self.t.store.index_bundle(
                &bundle_id,
                &manifest,
                &groups,
                &rows,
                &bodies,
                &problems.join("\n"),
            )?;
            for p in &ix.problems {
                // A bad item is skipped and logged; the rest still shows.
                self.t.store.audit(
                    now,
                    None,
                    crate::audit::kind::CONTENT_SKIPPED,
                    &format!("{bundle_id}: {p}"),
                )?;
            }
            n += 1;
        }
        Ok(n)
    }

    fn approval_groups(&self, manifest: &str) -> Vec<String> {
        self.t
            .store
            .approval_envelope(manifest)
            .ok()
            .flatten()
            .and_then(|b| self.t.root.verify_approval(&b).ok())
            .map(|a| a.groups.iter().map(|g| g.to_string()).collect())
            .unwrap_or_default()
    }

    /// The groups whose content a person sees: the facility, their unit,
    /// and themselves.
    pub fn person_groups(&self, person: &str) -> Vec<String> {
        // The person's group as approvals hold it (lowercase, see GroupId).
        let mut g = vec![
            "facility".to_string(),
            format!("person:{}", person.to_ascii_lowercase()),
        ];
        if let Ok(Some(p)) = self.t.store.person(person) {
            g.push(p.unit);
        }
        g
    }

    /// Stop showing a bundle (its approval was withdrawn). Progress,
    /// certificates, positions and entitlements stay.
    pub fn remove_content(&mut self, bundle_id: &str, why: &str) -> Result<bool> {
        let now = self.t.trusted_now()?;
        let removed = self.t.store.remove_bundle(bundle_id, now, why)?;
        if removed {
            if let Err(e) = crate::install::clean_orphans(&self.t.data, &self.t.store) {
                tracing::warn!("removing {bundle_id}'s files: {e}");
            }
        }
        Ok(removed)
    }

    pub fn search(
        &self,
        s: &Session,
        typed: &str,
        kinds: &[&str],
        subject: Option<&str>,
    ) -> Result<Vec<CatalogueRow>> {
        let groups = self.person_groups(&s.person);
        Ok(self.t.store.search(
            typed,
            &groups,
            &SearchFilter {
                kinds,
                subject,
                limit: 50,
            },
        )?)
    }

    pub fn subjects(&self, s: &Session, kinds: &[&str]) -> Result<Vec<String>> {
        Ok(self
            .t
            .store
            .subjects(kinds, &self.person_groups(&s.person))?)
    }

    fn visible(&self, s: &Session, item: &str) -> Result<CatalogueRow> {
        let row = self
            .t
            .store
            .catalogue_item(item)?
            .ok_or_else(|| ContentRefusal::NotHere(item.to_string()))?;
        // A lesson or track is as visible as its bundle, like its parent.
        if !self
            .t
            .store
            .is_visible(item, &self.person_groups(&s.person))?
        {
            return Err(ContentRefusal::NotApproved(item.to_string()).into());
        }
        Ok(row)
    }

    fn bundle_dir(&self, r: &CatalogueRow) -> PathBuf {
        self.t.content_path(&r.manifest)
    }

    // ------------------------------------------------------------ learning

    fn course_doc(&self, r: &CatalogueRow) -> Result<CourseDoc> {
        let dir = extra(r)["dir"].as_str().unwrap_or("").to_string();
        let path = self.bundle_dir(r).join(&dir).join("course.json");
        let bytes = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| unreadable(&path, e).into())
    }

    fn course_dir(&self, r: &CatalogueRow) -> PathBuf {
        self.bundle_dir(r)
            .join(extra(r)["dir"].as_str().unwrap_or(""))
    }

    pub fn courses(&self, s: &Session) -> Result<Vec<CourseCard>> {
        let groups = self.person_groups(&s.person);
        self.t
            .store
            .catalogue("course", &groups, None)?
            .iter()
            .map(|r| self.course_card(s, r))
            .collect()
    }

    fn course_card(&self, s: &Session, r: &CatalogueRow) -> Result<CourseCard> {
        let x = extra(r);
        let done = self.t.store.lessons_done(&s.person, &r.ref_id)?;
        let lessons = self.t.store.children(&r.item)?;
        let best = self.t.store.quiz_best(&s.person, &r.ref_id)?;
        let certified = self
            .t
            .store
            .certificates_for(&s.person)?
            .iter()
            .any(|c| c.course == r.ref_id);
        Ok(CourseCard {
            item: r.item.clone(),
            title: title_in(r, &s.language),
            description: x[if s.language == "es" {
                "description_es"
            } else {
                "description_en"
            }]
            .as_str()
            .filter(|d| !d.is_empty())
            .or(x["description_en"].as_str())
            .unwrap_or("")
            .to_string(),
            subject: r.subject.clone(),
            lessons: lessons.len() as u32,
            done: lessons.iter().filter(|l| done.contains(&l.ref_id)).count() as u32,
            quizzes: x["quizzes"].as_u64().unwrap_or(0) as u32,
            passed: best.iter().filter(|b| b.passed).count() as u32,
            certified,
        })
    }

    pub fn course(&self, s: &Session, item: &str) -> Result<CourseView> {
        let r = self.visible(s, item)?;
        let card = self.course_card(s, &r)?;
        let doc = self.course_doc(&r)?;
        let lessons = self.t.store.children(&r.item)?;
        let done = self.t.store.lessons_done(&s.person, &r.ref_id)?;
        let best = self.t.store.quiz_best(&s.person, &r.ref_id)?;
        let mut steps = Vec::new();
        let mut li = 0;
        for (ui, unit) in doc.units.iter().enumerate() {
            let unit_title = unit.title.get(&s.language).to_string();
            for l in lessons
                .iter()
                .filter(|l| extra(l)["unit"].as_u64() == Some(ui as u64))
            {
                steps.push(CourseStep {
                    place: step_place("lesson", li),
                    unit: ui,
                    unit_title: unit_title.clone(),
                    title: title_in(l, &s.language),
                    done: done.contains(&l.ref_id),
                    score: None,
                    narrated: extra(l)["audio"].is_string(),
                });
                li += 1;
            }
            if unit.quiz.is_some() {
                let b = best.iter().find(|b| b.quiz == format!("unit-{}", ui + 1));
                steps.push(CourseStep {
                    place: step_place("quiz", ui),
                    unit: ui,
                    unit_title: unit_title.clone(),
                    title: unit_title.clone(),
                    done: b.is_some_and(|b| b.passed),
                    score: b.map(|b| format!("{}/{}", b.correct, b.total)),
                    narrated: false,
                });
            }
        }
        let resume = self
            .t
            .store
            .resume(&s.person, &r.ref_id)?
            .filter(|p| steps.iter().any(|st| &st.place == p && !st.done))
            .or_else(|| steps.iter().find(|st| !st.done).map(|st| st.place.clone()));
        Ok(CourseView {
            card,
            steps,
            resume,
        })
    }

    pub fn lesson(&mut self, s: &Session, course: &str, index: usize) -> Result<LessonView> {
        let r = self.visible(s, course)?;
        let lessons = self.t.store.children(&r.item)?;
        let l = lessons
            .get(index)
            .ok_or_else(|| ContentRefusal::NoSuchStep(format!("{course} lesson {}", index + 1)))?;
        let dir = self.course_dir(&r);
        let file = l.ref_id.clone();
        let es = dir.join("es").join(&file);
        let path = if s.language == "es" && es.is_file() {
            es
        } else {
            dir.join(&file)
        };
        let text = std::fs::read_to_string(&path).map_err(|e| unreadable(&path, e))?;
        let lesson = crate::domain::content::parse_lesson(&text)
            .map_err(|e| unreadable(&path, e.join("; ")))?;
        let audio = extra(l)["audio"].as_str().map(|a| dir.join(a));
        let now = self.t.trusted_now()?;
        self.t
            .store
            .set_resume(&s.person, &r.ref_id, &step_place("lesson", index), now)?;
        let done = self
            .t
            .store
            .lessons_done(&s.person, &r.ref_id)?
            .contains(&file);
        Ok(LessonView {
            title: lesson.title.clone(),
            lesson,
            base: dir,
            audio,
            index,
            count: lessons.len(),
            done,
        })
    }

    /// Mark a lesson read. Finishing the last step signs the certificate.
    pub fn complete_lesson(
        &mut self,
        s: &Session,
        course: &str,
        index: usize,
    ) -> Result<Completed> {
        let r = self.visible(s, course)?;
        let lessons = self.t.store.children(&r.item)?;
        let l = lessons
            .get(index)
            .ok_or_else(|| ContentRefusal::NoSuchStep(format!("{course} lesson {}", index + 1)))?;
        let now = self.t.trusted_now()?;
        self.t
            .store
            .mark_lesson_done(&s.person, &r.ref_id, &l.ref_id, now)?;
        self.maybe_certify(s, &r, now)
    }

    pub fn quiz(&mut self, s: &Session, course: &str, unit: usize) -> Result<QuizDoc> {
        let r = self.visible(s, course)?;
        let doc = self.course_doc(&r)?;
        let q = doc
            .units
            .get(unit)
            .and_then(|u| u.quiz.clone())
            .ok_or_else(|| {
                ContentRefusal::NoSuchStep(format!("{course} unit {} quiz", unit + 1))
            })?;
        let path = self.course_dir(&r).join(&q);
        let bytes = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
        let quiz: QuizDoc = serde_json::from_slice(&bytes).map_err(|e| unreadable(&path, e))?;
        let problems = quiz.check();
        if !problems.is_empty() {
            return Err(unreadable(&path, problems.join("; ")).into());
        }
        let now = self.t.trusted_now()?;
        self.t
            .store
            .set_resume(&s.person, &r.ref_id, &step_place("quiz", unit), now)?;
        Ok(quiz)
    }

    /// Score and record an attempt; passing the last step signs the
    /// certificate.
    pub fn submit_quiz(
        &mut self,
        s: &Session,
        course: &str,
        unit: usize,
        answers: &[Vec<usize>],
    ) -> Result<(QuizResult, Completed)> {
        let quiz = self.quiz(s, course, unit)?;
        let r = self.visible(s, course)?;
        let result = quiz.score(answers);
        let now = self.t.trusted_now()?;
        self.t.store.record_quiz(
            &s.person,
            &r.ref_id,
            &format!("unit-{}", unit + 1),
            result.correct,
            result.total,
            result.passed,
            &serde_json::to_string(answers).unwrap_or_default(),
            now,
        )?;
        let done = self.maybe_certify(s, &r, now)?;
        Ok((result, done))
    }

    fn maybe_certify(
        &mut self,
        s: &Session,
        r: &CatalogueRow,
        now: DateTime<Utc>,
    ) -> Result<Completed> {
        let view = self.course(s, &r.item)?;
        if view.steps.is_empty() || view.steps.iter().any(|st| !st.done) || view.card.certified {
            return Ok(Completed::Step);
        }
        let best = self.t.store.quiz_best(&s.person, &r.ref_id)?;
        let (c, t) = best
            .iter()
            .fold((0u32, 0u32), |(c, t), b| (c + b.correct, t + b.total));
        let doc = CertificateDoc {
            facility: self.t.root.doc().facility.clone(),
            id: certificate_id(&s.person, &r.ref_id, now, &self.t.device_key.public()),
            person: crate::domain::people::PersonId::parse(&s.person)?,
            person_name: s.display_name.clone(),
            course: r.ref_id.clone(),
            course_title: r.title.clone(),
            completed: now,
            score_percent: (c * 100).checked_div(t).unwrap_or(100),
            tablet: self.t.device_key.public(),
        };
        let env = crate::trust::signed::sign(
            &self.t.device_key,
            crate::trust::payload_type::CERTIFICATE,
            &doc,
        );
        if self
            .t
            .store
            .add_certificate(&doc.id, &s.person, &doc.course, &env, now)?
        {
            Ok(Completed::Certified(doc))
        } else {
            Ok(Completed::Step)
        }
    }

    /// A person's certificates, verified again as they are read.
    /// The person's certificates as their page shows them: the course's
    /// title in their language (the signed one if the course is gone), and
    /// the code that checks the signed file.
    pub fn certificate_cards(&self, s: &Session) -> Result<Vec<CertificateCard>> {
        let groups = self.person_groups(&s.person);
        let mut out = Vec::new();
        for (doc, env, uploaded) in self.certificates(s)? {
            let title = self
                .t
                .store
                .by_ref("course", &doc.course, &groups)?
                .first()
                .map(|r| title_in(r, &s.language))
                .unwrap_or_else(|| doc.course_title.clone());
            out.push(CertificateCard {
                code: crate::domain::content::certificate_code(&crate::trust::digest::sha256(&env)),
                course_title: title,
                uploaded,
                doc,
            });
        }
        Ok(out)
    }

    pub fn certificates(&self, s: &Session) -> Result<Vec<(CertificateDoc, Vec<u8>, bool)>> {
        Ok(self
            .t
            .store
            .certificates_for(&s.person)?
            .into_iter()
            .filter_map(|c| {
                crate::trust::signed::verify_certificate(&c.envelope)
                    .ok()
                    .map(|d| (d, c.envelope, c.uploaded))
            })
            .collect())
    }

    // ------------------------------------------------------------ books

    pub fn books(&self, s: &Session) -> Result<Vec<BookCard>> {
        let groups = self.person_groups(&s.person);
        self.t
            .store
            .catalogue("book", &groups, None)?
            .iter()
            .map(|r| self.book_card(s, r))
            .collect()
    }

    fn book_card(&self, s: &Session, r: &CatalogueRow) -> Result<BookCard> {
        Ok(BookCard {
            item: r.item.clone(),
            title: r.title.clone(),
            author: r.subtitle.clone(),
            subject: r.subject.clone(),
            free: extra(r)["free"].as_bool().unwrap_or(false),
            position: self.t.store.book_position(&s.person, &r.ref_id)?,
            paras: extra(r)["paras"].as_u64().unwrap_or(0) as u32,
        })
    }

    pub fn open_book(&self, s: &Session, item: &str) -> Result<BookView> {
        let r = self.visible(s, item)?;
        let path = self.bundle_dir(&r).join(&r.path);
        let book = content::epub::read(&path).map_err(|e| unreadable(&path, e))?;
        Ok(BookView {
            card: self.book_card(s, &r)?,
            paras: book.paras,
            bookmarks: self.t.store.bookmarks(&s.person, &r.ref_id)?,
        })
    }

    pub fn set_book_position(&mut self, s: &Session, item: &str, para: u32) -> Result<()> {
        let r = self.visible(s, item)?;
        let now = self.t.trusted_now()?;
        Ok(self
            .t
            .store
            .set_book_position(&s.person, &r.ref_id, para, now)?)
    }

    pub fn toggle_bookmark(
        &mut self,
        s: &Session,
        item: &str,
        para: u32,
        excerpt: &str,
    ) -> Result<bool> {
        let r = self.visible(s, item)?;
        let now = self.t.trusted_now()?;
        let excerpt: String = excerpt.chars().take(120).collect();
        Ok(self
            .t
            .store
            .toggle_bookmark(&s.person, &r.ref_id, para, &excerpt, now)?)
    }

    pub fn bookmarks(&self, s: &Session, item: &str) -> Result<Vec<Bookmark>> {
        let r = self.visible(s, item)?;
        Ok(self.t.store.bookmarks(&s.person, &r.ref_id)?)
    }

    /// Whether reading this item is free (never metered).
    pub fn is_free(&self, item: &str) -> bool {
        self.t
            .store
            .catalogue_item(item)
            .ok()
            .flatten()
            .is_some_and(|r| extra(&r)["free"].as_bool().unwrap_or(false))
    }

    // ------------------------------------------------------------ music

    /// Accept an entitlement receipt carried by hand (the dock delivers
    /// them in the person's feed). Verified against the approval role.
    pub fn accept_entitlement(
        &mut self,
        bytes: &[u8],
    ) -> Result<crate::domain::content::EntitlementDoc> {
        let doc = self.t.root.verify_entitlement(bytes)?;
        if self.t.store.person(doc.person.as_str())?.is_none() {
            return Err(ContentRefusal::ReceiptForAnotherPerson(doc.person.to_string()).into());
        }
        let now = self.t.trusted_now()?;
        self.t.store.add_entitlement(
            &doc.id,
            doc.person.as_str(),
            &doc.item.to_string(),
            bytes,
            now,
        )?;
        Ok(doc)
    }

    pub fn entitlements(&self, s: &Session) -> Result<Vec<String>> {
        Ok(self.t.store.entitlements_for(&s.person)?)
    }

    fn track_row(&self, t: &CatalogueRow, ent: &[String]) -> Result<TrackRow> {
        let album = match &t.parent {
            Some(p) => self
                .t
                .store
                .catalogue_item(p)?
                .map(|a| a.title)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(track_row_in(t, album, ent))
    }

    /// `limit` of the tracks the person can see (of one artist, when
    /// given) from `offset`, by artist, album and number: what the Music
    /// page's list fetches as it scrolls.
    pub fn tracks_page(
        &self,
        s: &Session,
        artist: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<TrackRow>> {
        let groups = self.person_groups(&s.person);
        let ent = self.entitlements(s)?;
        Ok(self
            .t
            .store
            .tracks_page(&groups, artist, offset, limit)?
            .into_iter()
            .map(|(t, album)| track_row_in(&t, album, &ent))
            .collect())
    }

    /// How many tracks [`Library::tracks_page`] lists.
    pub fn track_count(&self, s: &Session, artist: Option<&str>) -> Result<usize> {
        let groups = self.person_groups(&s.person);
        Ok(self.t.store.track_count(&groups, artist)?)
    }

    /// The artists of the tracks the person can see, by name, with how
    /// many tracks each.
    pub fn artists(&self, s: &Session) -> Result<Vec<(String, u32)>> {
        let groups = self.person_groups(&s.person);
        Ok(self.t.store.artists(&groups)?)
    }

    pub fn albums(&self, s: &Session) -> Result<Vec<AlbumRow>> {
        let groups = self.person_groups(&s.person);
        let ent = self.entitlements(s)?;
        let mut out = Vec::new();
        for a in self.t.store.catalogue("album", &groups, None)? {
            let tracks = self.t.store.children(&a.item)?;
            let playable = tracks
                .iter()
                .filter_map(|t| self.track_row(t, &ent).ok())
                .filter(|t| t.playable)
                .count() as u32;
            out.push(AlbumRow {
                cover: extra(&a)["cover"]
                    .as_str()
                    .map(|c| self.bundle_dir(&a).join(c)),
                item: a.item.clone(),
                ref_id: a.ref_id.clone(),
                title: a.title.clone(),
                artist: a.subtitle.clone(),
                genre: a.subject.clone(),
                tracks: tracks.len() as u32,
                playable,
            });
        }
        Ok(out)
    }

    pub fn album_tracks(&self, s: &Session, album: &str) -> Result<Vec<TrackRow>> {
        let a = self.visible(s, album)?;
        let ent = self.entitlements(s)?;
        self.t
            .store
            .children(&a.item)?
            .iter()
            .map(|t| self.track_row(t, &ent))
            .collect()
    }

    /// Every track the person can see, by artist then album.
    pub fn tracks(&self, s: &Session) -> Result<Vec<TrackRow>> {
        let mut out = Vec::new();
        for a in self.albums(s)? {
            out.extend(self.album_tracks(s, &a.item)?);
        }
        out.sort_by(|x, y| (&x.artist, &x.album, x.number).cmp(&(&y.artist, &y.album, y.number)));
        Ok(out)
    }

    /// A track by its vendor-neutral id, from any bundle that carries it.
    pub fn track_by_ref(&self, s: &Session, ref_id: &str) -> Result<Option<TrackRow>> {
        let groups = self.person_groups(&s.person);
        let ent = self.entitlements(s)?;
        match self.t.store.by_ref("track", ref_id, &groups)?.first() {
            Some(t) => Ok(Some(self.track_row(t, &ent)?)),
            None => Ok(None),
        }
    }

    /// The file to play, if the person is entitled to it.
    pub fn track_file(&self, s: &Session, item: &str) -> Result<PathBuf> {
        let t = self.visible(s, item)?;
        let row = self.track_row(&t, &self.entitlements(s)?)?;
        if !row.playable {
            return Err(ContentRefusal::NotEntitled(t.title.clone()).into());
        }
        Ok(self.bundle_dir(&t).join(&t.path))
    }

    pub fn playlists(&self, s: &Session) -> Result<Vec<(i64, String, u32)>> {
        Ok(self.t.store.playlists(&s.person)?)
    }

    pub fn create_playlist(&mut self, s: &Session, name: &str) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(ContentRefusal::PlaylistName.into());
        }
        let now = self.t.trusted_now()?;
        Ok(self.t.store.create_playlist(&s.person, name, now)?)
    }

    pub fn add_to_playlist(&mut self, s: &Session, playlist: i64, track_ref: &str) -> Result<bool> {
        Ok(self
            .t
            .store
            .add_to_playlist(&s.person, playlist, track_ref)?)
    }

    /// A playlist's tracks that are on this tablet (a track whose bundle
    /// is gone stays in the list and shows again when it returns).
    pub fn playlist_tracks(&self, s: &Session, playlist: i64) -> Result<Vec<TrackRow>> {
        let mut out = Vec::new();
        for r in self.t.store.playlist_tracks(&s.person, playlist)? {
            if let Some(t) = self.track_by_ref(s, &r)? {
                out.push(t);
            }
        }
        Ok(out)
    }

    pub fn save_player(&mut self, s: &Session, st: &PlayerState) -> Result<()> {
        let now = self.t.trusted_now()?;
        Ok(self.t.store.save_player(&s.person, st, now)?)
    }

    pub fn player_state(&self, s: &Session) -> Result<Option<PlayerState>> {
        Ok(self.t.store.player(&s.person)?)
    }
}

/// Catalogue rows and search bodies for one indexed bundle.
fn catalogue_rows(bundle: &str, ix: &Indexed) -> (Vec<CatalogueRow>, Vec<(String, String)>) {
    let mut rows = Vec::new();
    let mut bodies = Vec::new();
    for c in &ix.courses {
        let item = format!("course:{bundle}/{}", c.doc.id);
        let units: Vec<String> = c.doc.units.iter().map(|u| u.title.all()).collect();
        rows.push(CatalogueRow {
            item: item.clone(),
            kind: "course".into(),
            ref_id: c.doc.id.clone(),
            title: c.doc.title.get("en").to_string(),
            title_es: c.doc.title.0.get("es").cloned(),
            subtitle: String::new(),
            subject: c.doc.subject.clone(),
            extra: json!({
                "dir": c.dir,
                "quizzes": c.quizzes,
                "description_en": c.doc.description.get("en"),
                "description_es": c.doc.description.0.get("es"),
            })
            .to_string(),
            ..Default::default()
        });
        bodies.push((
            item.clone(),
            format!("{} {}", c.doc.description.all(), units.join(" ")),
        ));
        for (i, l) in c.lessons.iter().enumerate() {
            let li = format!("lesson:{bundle}/{}/{}", c.doc.id, l.file);
            rows.push(CatalogueRow {
                item: li.clone(),
                kind: "lesson".into(),
                ref_id: l.file.clone(),
                parent: Some(item.clone()),
                position: i as u32,
                title: l.title.clone(),
                title_es: l.title_es.clone(),
                subtitle: c.doc.title.get("en").to_string(),
                subject: c.doc.subject.clone(),
                path: l.file.clone(),
                extra: json!({ "unit": l.unit, "audio": l.audio }).to_string(),
                ..Default::default()
            });
            bodies.push((li, l.text.clone()));
        }
    }
    for b in &ix.books {
        let item = format!("book:{bundle}/{}", b.id);
        rows.push(CatalogueRow {
            item: item.clone(),
            kind: "book".into(),
            ref_id: b.id.clone(),
            title: b.title.clone(),
            subtitle: b.author.clone(),
            subject: b.subject.clone(),
            path: b.file.clone(),
            extra: json!({ "free": b.free, "words": b.words, "paras": b.paras, "language": b.language }).to_string(),
            ..Default::default()
        });
        bodies.push((item, b.description.clone()));
    }
    for a in &ix.albums {
        let item = format!("album:{bundle}/{}", a.id);
        rows.push(CatalogueRow {
            item: item.clone(),
            kind: "album".into(),
            ref_id: a.id.clone(),
            title: a.title.clone(),
            subtitle: a.artist.clone(),
            subject: a.genre.clone(),
            extra: json!({ "cover": a.cover, "year": a.year }).to_string(),
            ..Default::default()
        });
        bodies.push((item.clone(), a.genre.clone()));
        for t in &a.tracks {
            let ti = format!("track:{bundle}/{}", t.id);
            let path = if a.dir.is_empty() {
                t.file.clone()
            } else {
                format!("{}/{}", a.dir, t.file)
            };
            rows.push(CatalogueRow {
                item: ti.clone(),
                kind: "track".into(),
                ref_id: t.id.clone(),
                parent: Some(item.clone()),
                position: t.number,
                title: t.title.clone(),
                subtitle: t.artist.clone(),
                subject: a.genre.clone(),
                path,
                extra: json!({ "duration_ms": t.duration_ms, "album": a.id }).to_string(),
                ..Default::default()
            });
            bodies.push((ti, a.title.clone()));
        }
    }
    (rows, bodies)
}

/// A track row, given its album's title and the person's entitlements.
fn track_row_in(t: &CatalogueRow, album: String, ent: &[String]) -> TrackRow {
    let x = extra(t);
    let album_ref = x["album"].as_str().unwrap_or("");
    TrackRow {
        item: t.item.clone(),
        ref_id: t.ref_id.clone(),
        title: t.title.clone(),
        artist: t.subtitle.clone(),
        album,
        album_item: t.parent.clone().unwrap_or_default(),
        number: t.position,
        duration_ms: x["duration_ms"].as_u64().unwrap_or(0),
        playable: ent.contains(&format!("track:{}", t.ref_id))
            || ent.contains(&format!("album:{album_ref}")),
    }
}
