//! The narrow services the page controllers work over, bound to the
//! shared tablet and the person signed in. Each call locks the tablet for
//! its own store work only and never holds the lock across a callback
//! into Slint.

use std::sync::{Mutex, MutexGuard};

use chrono_tz::Tz;

use crate::audit::AuditEntry;
use crate::domain::messages::Contact;
use std::path::PathBuf;

use super::library::{BooksService, Hit, LearnService, MusicService, PlayerService, Playlist};
use crate::domain::content::{QuizDoc, QuizResult};
use crate::tablet::{
    AlbumRow, BookCard, BookView, Bookmark, Completed, CoreError, CourseCard, CourseView,
    LessonView, PlayerState, Queued, Session, Tablet, ThreadItem, ThreadSummary, TrackRow,
};

fn lock(t: &Mutex<Tablet>) -> MutexGuard<'_, Tablet> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// The tablet's letters, for one person.
pub struct SessionLetters<'a> {
    tablet: &'a Mutex<Tablet>,
    session: &'a Session,
}

impl<'a> SessionLetters<'a> {
    pub fn new(tablet: &'a Mutex<Tablet>, session: &'a Session) -> Self {
        SessionLetters { tablet, session }
    }
}

impl super::messages::LettersService for SessionLetters<'_> {
    fn contacts(&self) -> Result<Vec<Contact>, CoreError> {
        lock(self.tablet).letters().contacts_for(self.session)
    }
    fn threads(&self) -> Result<Vec<ThreadSummary>, CoreError> {
        lock(self.tablet).letters().threads_for(self.session)
    }
    fn open_thread(&self, contact: &str) -> Result<Vec<ThreadItem>, CoreError> {
        lock(self.tablet)
            .letters()
            .open_thread(self.session, contact)
    }
    fn draft(&self, contact: &str) -> Result<Option<String>, CoreError> {
        lock(self.tablet).letters().draft(self.session, contact)
    }
    fn save_draft(&self, contact: &str, body: &str) -> Result<(), CoreError> {
        lock(self.tablet)
            .letters()
            .save_draft(self.session, contact, body)
    }
    fn queue(&self, contact: &str, body: &str) -> Result<Queued, CoreError> {
        lock(self.tablet)
            .letters()
            .queue_letter(self.session, contact, body)
    }
    fn limits(&self) -> Result<(u32, u32), CoreError> {
        let mut t = lock(self.tablet);
        let max = t
            .people()
            .effective_for(self.session.person())?
            .message_max_graphemes;
        let left = t
            .people()
            .decision_for(self.session.person())?
            .messages_left_today;
        Ok((max, left))
    }
    fn time_zone(&self) -> Tz {
        lock(self.tablet).people().time_zone()
    }
    fn requests(&self) -> Result<Vec<crate::tablet::ContactRequestRow>, CoreError> {
        lock(self.tablet)
            .letters()
            .contact_requests_for(self.session)
    }
    fn ask(&self, name: &str, relationship: &str, email: &str) -> Result<String, CoreError> {
        lock(self.tablet)
            .letters()
            .ask_contact(self.session, name, relationship, email)
    }
    fn remove(&self, contact: &str) -> Result<String, CoreError> {
        lock(self.tablet)
            .letters()
            .ask_remove_contact(self.session, contact)
    }
}

/// The person's own record: audit entries and certificates.
pub struct SessionRecord<'a> {
    tablet: &'a Mutex<Tablet>,
    session: &'a Session,
}

impl<'a> SessionRecord<'a> {
    pub fn new(tablet: &'a Mutex<Tablet>, session: &'a Session) -> Self {
        SessionRecord { tablet, session }
    }
}

impl super::record::RecordService for SessionRecord<'_> {
    fn entries(&self) -> Result<Vec<AuditEntry>, CoreError> {
        lock(self.tablet).people().audit_for(self.session)
    }
    fn certificates(&self) -> Result<Vec<crate::tablet::CertificateCard>, CoreError> {
        lock(self.tablet).library().certificate_cards(self.session)
    }
    fn time_zone(&self) -> Tz {
        lock(self.tablet).people().time_zone()
    }
}

/// The tablet's content for one person: what Learn, Books, Music and the
/// player bar need.
pub struct SessionLibrary<'a> {
    tablet: &'a Mutex<Tablet>,
    session: &'a Session,
}

impl<'a> SessionLibrary<'a> {
    pub fn new(tablet: &'a Mutex<Tablet>, session: &'a Session) -> Self {
        SessionLibrary { tablet, session }
    }

    fn hits(
        &self,
        text: &str,
        kinds: &[&str],
        subject: Option<&str>,
    ) -> Result<Vec<Hit>, CoreError> {
        let lang = self.session.language();
        Ok(lock(self.tablet)
            .library()
            .search(self.session, text, kinds, subject)?
            .into_iter()
            .map(|r| Hit {
                title: match (&r.title_es, lang) {
                    (Some(t), "es") if !t.is_empty() => t.clone(),
                    _ => r.title.clone(),
                },
                item: r.item,
                kind: r.kind,
                ref_id: r.ref_id,
                subtitle: r.subtitle,
            })
            .collect())
    }
}

impl LearnService for SessionLibrary<'_> {
    fn courses(&self) -> Result<Vec<CourseCard>, CoreError> {
        lock(self.tablet).library().courses(self.session)
    }
    fn subjects(&self) -> Result<Vec<String>, CoreError> {
        lock(self.tablet)
            .library()
            .subjects(self.session, &["course"])
    }
    fn search(
        &self,
        text: &str,
        kinds: &[&str],
        subject: Option<&str>,
    ) -> Result<Vec<Hit>, CoreError> {
        self.hits(text, kinds, subject)
    }
    fn course(&self, item: &str) -> Result<CourseView, CoreError> {
        lock(self.tablet).library().course(self.session, item)
    }
    fn lesson(&self, course: &str, index: usize) -> Result<LessonView, CoreError> {
        lock(self.tablet)
            .library()
            .lesson(self.session, course, index)
    }
    fn complete_lesson(&self, course: &str, index: usize) -> Result<Completed, CoreError> {
        lock(self.tablet)
            .library()
            .complete_lesson(self.session, course, index)
    }
    fn quiz(&self, course: &str, unit: usize) -> Result<QuizDoc, CoreError> {
        lock(self.tablet).library().quiz(self.session, course, unit)
    }
    fn submit_quiz(
        &self,
        course: &str,
        unit: usize,
        answers: &[Vec<usize>],
    ) -> Result<(QuizResult, Completed), CoreError> {
        lock(self.tablet)
            .library()
            .submit_quiz(self.session, course, unit, answers)
    }
    fn lesson_place(&self, item: &str) -> Result<Option<(String, u32)>, CoreError> {
        lock(self.tablet).library().lesson_place(item)
    }
    fn language(&self) -> String {
        self.session.language().to_string()
    }
}

impl BooksService for SessionLibrary<'_> {
    fn books(&self) -> Result<Vec<BookCard>, CoreError> {
        lock(self.tablet).library().books(self.session)
    }
    fn search(&self, text: &str) -> Result<Vec<String>, CoreError> {
        Ok(self
            .hits(text, &["book"], None)?
            .into_iter()
            .map(|h| h.item)
            .collect())
    }
    fn open(&self, item: &str) -> Result<BookView, CoreError> {
        lock(self.tablet).library().open_book(self.session, item)
    }
    fn bookmarks(&self, item: &str) -> Result<Vec<Bookmark>, CoreError> {
        lock(self.tablet).library().bookmarks(self.session, item)
    }
    fn toggle_bookmark(&self, item: &str, para: u32, excerpt: &str) -> Result<(), CoreError> {
        lock(self.tablet)
            .library()
            .toggle_bookmark(self.session, item, para, excerpt)
            .map(|_| ())
    }
    fn set_position(&self, item: &str, para: u32) -> Result<(), CoreError> {
        lock(self.tablet)
            .library()
            .set_book_position(self.session, item, para)
    }
}

impl MusicService for SessionLibrary<'_> {
    fn albums(&self) -> Result<Vec<AlbumRow>, CoreError> {
        lock(self.tablet).library().albums(self.session)
    }
    fn tracks_page(
        &self,
        artist: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<TrackRow>, CoreError> {
        lock(self.tablet)
            .library()
            .tracks_page(self.session, artist, offset, limit)
    }
    fn track_count(&self, artist: Option<&str>) -> Result<usize, CoreError> {
        lock(self.tablet)
            .library()
            .track_count(self.session, artist)
    }
    fn artists(&self) -> Result<Vec<(String, u32)>, CoreError> {
        lock(self.tablet).library().artists(self.session)
    }
    fn album_tracks(&self, album: &str) -> Result<Vec<TrackRow>, CoreError> {
        lock(self.tablet)
            .library()
            .album_tracks(self.session, album)
    }
    fn playlists(&self) -> Result<Vec<Playlist>, CoreError> {
        Ok(lock(self.tablet)
            .library()
            .playlists(self.session)?
            .into_iter()
            .map(|(id, name, tracks)| Playlist { id, name, tracks })
            .collect())
    }
    fn playlist_tracks(&self, id: i64) -> Result<Vec<TrackRow>, CoreError> {
        lock(self.tablet)
            .library()
            .playlist_tracks(self.session, id)
    }
    fn create_playlist(&self, name: &str) -> Result<i64, CoreError> {
        lock(self.tablet)
            .library()
            .create_playlist(self.session, name)
    }
    fn add_to_playlist(&self, id: i64, track_ref: &str) -> Result<bool, CoreError> {
        lock(self.tablet)
            .library()
            .add_to_playlist(self.session, id, track_ref)
    }
    fn search(&self, text: &str) -> Result<Vec<Hit>, CoreError> {
        self.hits(text, &["track", "album"], None)
    }
    fn track_by_ref(&self, ref_id: &str) -> Result<Option<TrackRow>, CoreError> {
        lock(self.tablet)
            .library()
            .track_by_ref(self.session, ref_id)
    }
}

impl PlayerService for SessionLibrary<'_> {
    fn track_file(&self, item: &str) -> Result<PathBuf, CoreError> {
        lock(self.tablet).library().track_file(self.session, item)
    }
    fn track_by_ref(&self, ref_id: &str) -> Result<Option<TrackRow>, CoreError> {
        MusicService::track_by_ref(self, ref_id)
    }
    fn volume_cap(&self) -> Result<u32, CoreError> {
        Ok(lock(self.tablet)
            .people()
            .decision_for(self.session.person())?
            .max_volume_percent)
    }
    fn save_state(&self, state: &PlayerState) -> Result<(), CoreError> {
        lock(self.tablet).library().save_player(self.session, state)
    }
    fn saved_state(&self) -> Result<Option<PlayerState>, CoreError> {
        lock(self.tablet).library().player_state(self.session)
    }
}
