//! The Music page: albums, artists, tracks, playlists, search and Now
//! playing. [`MusicController`] works over a [`MusicService`] and needs no
//! window; [`show`] is the one place its view becomes adapter properties
//! and translated text.

use std::path::PathBuf;

use slint::{ComponentHandle, SharedString};

use super::{ContentNotice, Hit, TrackRow, model, track_lines};
use crate::tablet::{AlbumRow, CoreError};
use crate::ui::library::player::Queue;
use crate::ui::{AlbumCard, AppWindow, MusicAdapter, NamedRow, Tr};

/// What the Music page needs of the tablet, for the person signed in.
pub trait MusicService {
    fn albums(&self) -> Result<Vec<AlbumRow>, CoreError>;
    /// `limit` tracks (of one artist, when given) from `offset`, by
    /// artist, album and number.
    fn tracks_page(
        &self,
        artist: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<TrackRow>, CoreError>;
    /// How many tracks [`MusicService::tracks_page`] lists.
    fn track_count(&self, artist: Option<&str>) -> Result<usize, CoreError>;
    /// Artists by name, with how many tracks each.
    fn artists(&self) -> Result<Vec<(String, u32)>, CoreError>;
    fn album_tracks(&self, album: &str) -> Result<Vec<TrackRow>, CoreError>;
    fn playlists(&self) -> Result<Vec<Playlist>, CoreError>;
    fn playlist_tracks(&self, id: i64) -> Result<Vec<TrackRow>, CoreError>;
    fn create_playlist(&self, name: &str) -> Result<i64, CoreError>;
    /// Whether the track was added (false: it was there already).
    fn add_to_playlist(&self, id: i64, track_ref: &str) -> Result<bool, CoreError>;
    /// Tracks and albums matching what was typed.
    fn search(&self, text: &str) -> Result<Vec<Hit>, CoreError>;
    fn track_by_ref(&self, ref_id: &str) -> Result<Option<TrackRow>, CoreError>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Playlist {
    pub id: i64,
    pub name: String,
    pub tracks: u32,
}

/// The page's modes, as `music.slint` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Albums,
    Artists,
    Tracks,
    Playlists,
    Album,
    Playlist,
    Now,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Albums => "albums",
            Mode::Artists => "artists",
            Mode::Tracks => "tracks",
            Mode::Playlists => "playlists",
            Mode::Album => "album",
            Mode::Playlist => "playlist",
            Mode::Now => "now",
        }
    }
    pub const ALL: [Mode; 7] = [
        Mode::Albums,
        Mode::Artists,
        Mode::Tracks,
        Mode::Playlists,
        Mode::Album,
        Mode::Playlist,
        Mode::Now,
    ];

    /// A mode the page asked for; an unknown name opens the albums.
    pub fn parse(s: &str) -> Mode {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .unwrap_or(Mode::Albums)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heading {
    None,
    Named(String),
    SearchResults,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlbumLine {
    pub item: String,
    pub title: String,
    pub artist: String,
    pub cover: Option<PathBuf>,
    pub playable: u32,
    pub tracks: u32,
}

/// The most tracks a queue holds: a tap in a list of 10,000 queues the
/// tapped track and what follows it, up to this many.
pub const MAX_QUEUE: usize = 500;

/// A list of tracks on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackList {
    /// A short list, held whole: an album, a playlist, search results.
    Rows(Vec<TrackRow>),
    /// Every track (of one artist, when given): `count` of them, which
    /// the page fetches a screenful at a time.
    Paged {
        artist: Option<String>,
        count: usize,
    },
}

impl Default for TrackList {
    fn default() -> Self {
        TrackList::Rows(Vec::new())
    }
}

impl TrackList {
    pub fn len(&self) -> usize {
        match self {
            TrackList::Rows(r) => r.len(),
            TrackList::Paged { count, .. } => *count,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything the page shows; a list the mode does not use is `None`
/// and stays as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MusicView {
    pub mode: Mode,
    pub heading: Heading,
    pub notice: ContentNotice,
    pub playlists: Vec<Playlist>,
    pub albums: Option<Vec<AlbumLine>>,
    /// Artists with their track counts, in the order first met.
    pub artists: Option<Vec<(String, u32)>>,
    pub tracks: Option<TrackList>,
}

fn logged<T: Default>(what: &str, r: Result<T, CoreError>) -> T {
    super::logged(what, r)
}

/// Every track (of `artist`), as a list fetched on demand.
fn paged(svc: &impl MusicService, artist: Option<&str>) -> TrackList {
    TrackList::Paged {
        artist: artist.map(str::to_string),
        count: logged("tracks", svc.track_count(artist)),
    }
}

/// The Music page's controller: the list on screen and the way back.
#[derive(Default)]
pub struct MusicController {
    mode: Option<Mode>,
    /// Tracks of the list on screen (what "Play all" plays).
    view: TrackList,
    back: Vec<Mode>,
    /// The album, playlist or artist whose tracks `view` holds, so Back
    /// from Now playing returns to it.
    listed: Option<(Mode, Heading)>,
}

impl MusicController {
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Albums)
    }

    /// Open the page fresh at `mode`.
    pub fn open(&mut self, svc: &impl MusicService, mode: Mode) -> MusicView {
        self.back.clear();
        self.show(svc, mode)
    }

    /// A tab: Now playing remembers where it came from, the others start
    /// a new way back.
    pub fn tab(&mut self, svc: &impl MusicService, mode: Mode) -> MusicView {
        if mode == Mode::Now {
            self.push();
        } else {
            self.back.clear();
        }
        self.show(svc, mode)
    }

    fn push(&mut self) {
        let mode = self.mode();
        if self.back.last() != Some(&mode) {
            self.back.push(mode);
        }
    }

    pub fn back(&mut self, svc: &impl MusicService) -> MusicView {
        let to = match self.back.pop() {
            // The list Now playing was started from, as it was.
            Some(Mode::Album | Mode::Playlist) if self.listed.is_some() => {
                let (mode, heading) = self.listed.clone().unwrap_or((Mode::Albums, Heading::None));
                self.mode = Some(mode);
                return MusicView {
                    mode,
                    heading,
                    notice: ContentNotice::None,
                    playlists: logged("playlists", svc.playlists()),
                    albums: None,
                    artists: None,
                    tracks: Some(self.view.clone()),
                };
            }
            // An album or playlist is opened from a list; back goes there.
            None | Some(Mode::Album | Mode::Playlist) => Mode::Albums,
            Some(m) => m,
        };
        self.show(svc, to)
    }

    pub fn show(&mut self, svc: &impl MusicService, mode: Mode) -> MusicView {
        let mut v = MusicView {
            mode,
            heading: Heading::None,
            notice: ContentNotice::None,
            playlists: logged("playlists", svc.playlists()),
            albums: None,
            artists: None,
            tracks: None,
        };
        match mode {
            Mode::Albums => {
                let albums = logged("albums", svc.albums());
                v.albums = Some(
                    albums
                        .into_iter()
                        .map(|a| AlbumLine {
                            item: a.item,
                            title: a.title,
                            artist: a.artist,
                            cover: a.cover,
                            playable: a.playable,
                            tracks: a.tracks,
                        })
                        .collect(),
                );
            }
            Mode::Artists => v.artists = Some(logged("artists", svc.artists())),
            Mode::Tracks => v.tracks = Some(self.set_view(paged(svc, None))),
            Mode::Playlists | Mode::Now | Mode::Album | Mode::Playlist => {}
        }
        self.mode = Some(mode);
        v
    }

    fn set_view(&mut self, tracks: TrackList) -> TrackList {
        self.view = tracks.clone();
        tracks
    }

    fn list(&mut self, svc: &impl MusicService, heading: Heading, tracks: TrackList) -> MusicView {
        self.push();
        let tracks = self.set_view(tracks);
        MusicView {
            mode: Mode::Playlist,
            heading,
            notice: ContentNotice::None,
            playlists: logged("playlists", svc.playlists()),
            albums: None,
            artists: None,
            tracks: Some(tracks),
        }
    }

    pub fn open_album(&mut self, svc: &impl MusicService, item: &str) -> MusicView {
        let tracks = logged("album tracks", svc.album_tracks(item));
        let title = tracks.first().map(|t| t.album.clone()).unwrap_or_default();
        let mut v = self.list(svc, Heading::Named(title), TrackList::Rows(tracks));
        v.mode = Mode::Album;
        self.mode = Some(Mode::Album);
        self.listed = Some((Mode::Album, v.heading.clone()));
        v
    }

    pub fn open_artist(&mut self, svc: &impl MusicService, artist: &str) -> MusicView {
        let tracks = paged(svc, Some(artist));
        let v = self.list(svc, Heading::Named(artist.into()), tracks);
        self.mode = Some(Mode::Playlist);
        self.listed = Some((Mode::Playlist, v.heading.clone()));
        v
    }

    pub fn open_playlist(&mut self, svc: &impl MusicService, id: i64) -> MusicView {
        let tracks = logged("playlist tracks", svc.playlist_tracks(id));
        let name = logged("playlists", svc.playlists())
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| p.name)
            .unwrap_or_default();
        let v = self.list(svc, Heading::Named(name), TrackList::Rows(tracks));
        self.mode = Some(Mode::Playlist);
        self.listed = Some((Mode::Playlist, v.heading.clone()));
        v
    }

    /// Tracks and the tracks of albums matching `text`, each once. An
    /// empty search shows the albums.
    pub fn search(&mut self, svc: &impl MusicService, text: &str) -> MusicView {
        if text.trim().is_empty() {
            return self.show(svc, Mode::Albums);
        }
        let mut tracks: Vec<TrackRow> = Vec::new();
        for hit in logged("search", svc.search(text)) {
            let found = if hit.kind == "album" {
                logged("album tracks", svc.album_tracks(&hit.item))
            } else {
                logged("track", svc.track_by_ref(&hit.ref_id))
                    .into_iter()
                    .collect()
            };
            for t in found {
                if !tracks.iter().any(|x| x.item == t.item) {
                    tracks.push(t);
                }
            }
        }
        let tracks = self.set_view(TrackList::Rows(tracks));
        self.mode = Some(Mode::Tracks);
        MusicView {
            mode: Mode::Tracks,
            heading: Heading::SearchResults,
            notice: ContentNotice::None,
            playlists: logged("playlists", svc.playlists()),
            albums: None,
            artists: None,
            tracks: Some(tracks),
        }
    }

    /// The queue a tap on `item`, row `index` of the list on screen,
    /// plays: the list from there (at most [`MAX_QUEUE`] tracks of a long
    /// one).
    pub fn queue_from(&self, svc: &impl MusicService, item: &str, index: usize) -> Option<Queue> {
        match &self.view {
            TrackList::Rows(rows) => Queue::of(rows, Some(item)),
            TrackList::Paged { artist, .. } => {
                let rows = logged(
                    "tracks",
                    svc.tracks_page(artist.as_deref(), index, MAX_QUEUE),
                );
                Queue::of(&rows, Some(item))
            }
        }
    }

    /// "Play all": the list on screen from the top (at most
    /// [`MAX_QUEUE`] tracks of a long one); Now playing will go back to it.
    pub fn queue_all(&mut self, svc: &impl MusicService) -> Option<Queue> {
        let q = match &self.view {
            TrackList::Rows(rows) => Queue::of(rows, None)?,
            TrackList::Paged { artist, .. } => {
                let rows = logged("tracks", svc.tracks_page(artist.as_deref(), 0, MAX_QUEUE));
                Queue::of(&rows, None)?
            }
        };
        self.push();
        Some(q)
    }

    /// A new playlist; the page shows the playlists, with a notice when
    /// the name was refused.
    pub fn create_playlist(&mut self, svc: &impl MusicService, name: &str) -> (bool, MusicView) {
        let made = svc.create_playlist(name);
        let mut v = self.show(svc, Mode::Playlists);
        match made {
            Ok(_) => (true, v),
            Err(e) => {
                v.notice = ContentNotice::of(&e);
                (false, v)
            }
        }
    }

    /// Add `track` to playlist `id`: the notice to show.
    pub fn add_to_playlist(
        &self,
        svc: &impl MusicService,
        id: i64,
        track: &TrackRow,
    ) -> ContentNotice {
        match svc.add_to_playlist(id, &track.ref_id) {
            Ok(true) => {
                let name = logged("playlists", svc.playlists())
                    .into_iter()
                    .find(|p| p.id == id)
                    .map(|p| p.name)
                    .unwrap_or_default();
                ContentNotice::AddedTo(name)
            }
            Ok(false) => ContentNotice::None,
            Err(e) => ContentNotice::of(&e),
        }
    }
}

/// Album tiles fetched at a time (a row or two of the grid).
const ALBUM_PAGE: usize = 8;

/// Fetches `limit` tracks (of an artist) from `offset` for a paged list.
pub(in crate::ui) type FetchTracks = Box<dyn Fn(Option<&str>, usize, usize) -> Vec<TrackRow>>;

/// The page's adapter properties from its view. `playing` is the queue
/// entry the output has loaded; `fetch` serves a paged track list.
pub(in crate::ui) fn show(
    ui: &AppWindow,
    v: &MusicView,
    playing: Option<&str>,
    fetch: impl FnOnce() -> FetchTracks,
) {
    let g = ui.global::<MusicAdapter>();
    let tr = ui.global::<Tr>();
    g.set_notice(v.notice.text(&tr));
    g.set_heading(match &v.heading {
        Heading::None => SharedString::default(),
        Heading::Named(s) => s.into(),
        Heading::SearchResults => tr.invoke_search_results(),
    });
    g.set_playlists(model(
        v.playlists
            .iter()
            .map(|p| NamedRow {
                id: p.id.to_string().into(),
                name: p.name.clone().into(),
                note: tr.invoke_track_count(p.tracks as i32),
            })
            .collect(),
    ));
    if let Some(albums) = &v.albums {
        // Covers are decoded as their tiles come on screen, a few rows at
        // a time, and only those rows' covers are held.
        let albums: Vec<(AlbumLine, SharedString)> = albums
            .iter()
            .map(|a| {
                let note = tr.invoke_tracks_yours(a.playable as i32, a.tracks as i32);
                (a.clone(), note)
            })
            .collect();
        let count = albums.len();
        g.set_albums(slint::ModelRc::new(super::paged::Paged::with_pages(
            count,
            ALBUM_PAGE,
            4,
            move |offset, limit| {
                albums
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|(a, note)| {
                        let img = a.cover.as_deref().and_then(super::cover_image);
                        AlbumCard {
                            item: a.item.clone().into(),
                            title: a.title.clone().into(),
                            artist: a.artist.clone().into(),
                            has_cover: img.is_some(),
                            cover: img.unwrap_or_default(),
                            note: note.clone(),
                        }
                    })
                    .collect()
            },
        )));
    }
    if let Some(artists) = &v.artists {
        g.set_artists(model(
            artists
                .iter()
                .map(|(a, n)| NamedRow {
                    id: a.clone().into(),
                    name: a.clone().into(),
                    note: tr.invoke_track_count(*n as i32),
                })
                .collect(),
        ));
    }
    match &v.tracks {
        Some(TrackList::Rows(tracks)) => g.set_tracks(model(track_lines(tracks, playing))),
        Some(TrackList::Paged { artist, count }) => {
            let fetch = fetch();
            let (artist, playing) = (artist.clone(), playing.map(str::to_string));
            g.set_tracks(slint::ModelRc::new(super::paged::Paged::new(
                *count,
                move |offset, limit| {
                    track_lines(&fetch(artist.as_deref(), offset, limit), playing.as_deref())
                },
            )))
        }
        None => {}
    }
    g.set_mode(v.mode.as_str().into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn track(item: &str, artist: &str, album: &str, playable: bool) -> TrackRow {
        TrackRow {
            item: item.into(),
            ref_id: format!("ref-{item}"),
            title: format!("Song {item}"),
            artist: artist.into(),
            album: album.into(),
            album_item: format!("album:{album}"),
            number: 1,
            duration_ms: 1_000,
            playable,
        }
    }

    struct Svc {
        tracks: Vec<TrackRow>,
        playlists: RefCell<Vec<(Playlist, Vec<String>)>>,
        hits: Vec<Hit>,
    }
    fn svc() -> Svc {
        Svc {
            tracks: vec![
                track("t1", "Ana", "Sol", true),
                track("t2", "Ana", "Sol", false),
                track("t3", "Beto", "Mar", true),
            ],
            playlists: RefCell::new(Vec::new()),
            hits: vec![
                Hit::new("album:Sol", "album", "ref-sol", "Sol"),
                Hit::new("t1", "track", "ref-t1", "Song t1"),
                Hit::new("t3", "track", "ref-t3", "Song t3"),
            ],
        }
    }
    impl MusicService for Svc {
        fn albums(&self) -> Result<Vec<AlbumRow>, CoreError> {
            Ok(vec![AlbumRow {
                item: "album:Sol".into(),
                ref_id: "ref-sol".into(),
                title: "Sol".into(),
                artist: "Ana".into(),
                genre: "pop".into(),
                cover: None,
                tracks: 2,
                playable: 1,
            }])
        }
        fn tracks_page(
            &self,
            artist: Option<&str>,
            offset: usize,
            limit: usize,
        ) -> Result<Vec<TrackRow>, CoreError> {
            Ok(self
                .tracks
                .iter()
                .filter(|t| artist.is_none_or(|a| t.artist == a))
                .skip(offset)
                .take(limit)
                .cloned()
                .collect())
        }
        fn track_count(&self, artist: Option<&str>) -> Result<usize, CoreError> {
            Ok(self.tracks_page(artist, 0, usize::MAX)?.len())
        }
        fn artists(&self) -> Result<Vec<(String, u32)>, CoreError> {
            let mut artists: Vec<(String, u32)> = Vec::new();
            for t in &self.tracks {
                match artists.iter_mut().find(|(a, _)| *a == t.artist) {
                    Some(x) => x.1 += 1,
                    None => artists.push((t.artist.clone(), 1)),
                }
            }
            Ok(artists)
        }
        fn album_tracks(&self, album: &str) -> Result<Vec<TrackRow>, CoreError> {
            Ok(self
                .tracks
                .iter()
                .filter(|t| t.album_item == album)
                .cloned()
                .collect())
        }
        fn playlists(&self) -> Result<Vec<Playlist>, CoreError> {
            Ok(self
                .playlists
                .borrow()
                .iter()
                .map(|p| p.0.clone())
                .collect())
        }
        fn playlist_tracks(&self, id: i64) -> Result<Vec<TrackRow>, CoreError> {
            let p = self.playlists.borrow();
            let refs = &p.iter().find(|p| p.0.id == id).unwrap().1;
            Ok(self
                .tracks
                .iter()
                .filter(|t| refs.contains(&t.ref_id))
                .cloned()
                .collect())
        }
        fn create_playlist(&self, name: &str) -> Result<i64, CoreError> {
            if name.trim().is_empty() {
                return Err(CoreError::Refused(crate::tablet::Refusal::Content(
                    crate::tablet::ContentRefusal::PlaylistName,
                )));
            }
            let mut p = self.playlists.borrow_mut();
            let id = p.len() as i64 + 1;
            p.push((
                Playlist {
                    id,
                    name: name.into(),
                    tracks: 0,
                },
                Vec::new(),
            ));
            Ok(id)
        }
        fn add_to_playlist(&self, id: i64, r: &str) -> Result<bool, CoreError> {
            let mut p = self.playlists.borrow_mut();
            let p = p.iter_mut().find(|p| p.0.id == id).unwrap();
            if p.1.iter().any(|x| x == r) {
                return Ok(false);
            }
            p.1.push(r.into());
            p.0.tracks += 1;
            Ok(true)
        }
        fn search(&self, _: &str) -> Result<Vec<Hit>, CoreError> {
            Ok(self.hits.clone())
        }
        fn track_by_ref(&self, r: &str) -> Result<Option<TrackRow>, CoreError> {
            Ok(self.tracks.iter().find(|t| t.ref_id == r).cloned())
        }
    }

    #[test]
    fn artists_come_from_the_service_and_all_tracks_are_paged() {
        let s = svc();
        let mut m = MusicController::default();
        let v = m.open(&s, Mode::Artists);
        assert_eq!(v.artists.unwrap(), [("Ana".into(), 2), ("Beto".into(), 1)]);
        assert!(v.albums.is_none() && v.tracks.is_none());
        // Every track: a count, not the rows.
        let v = m.open(&s, Mode::Tracks);
        assert_eq!(
            v.tracks,
            Some(TrackList::Paged {
                artist: None,
                count: 3
            })
        );
    }

    #[test]
    fn a_tap_in_a_paged_list_queues_from_its_row_at_most_max_queue() {
        let mut s = svc();
        s.tracks = (0..MAX_QUEUE + 100)
            .map(|i| track(&format!("t{i}"), "Ana", "Sol", i != 3))
            .collect();
        let mut m = MusicController::default();
        m.open(&s, Mode::Tracks);
        let q = m.queue_from(&s, "t2", 2).unwrap();
        assert_eq!(q.current().unwrap().item, "t2");
        assert_eq!(q.tracks().len(), MAX_QUEUE - 1, "t3 is not the person's");
        assert_eq!(q.tracks()[1].item, "t4");
        let q = m.queue_all(&s).unwrap();
        assert_eq!(q.current().unwrap().item, "t0");
        assert_eq!(q.tracks().len(), MAX_QUEUE - 1);
        // A row that moved (the list changed under the tap) plays nothing
        // rather than another track.
        assert!(m.queue_from(&s, "t2", 400).is_none());
        // An artist's tracks are paged too.
        let v = m.open_artist(&s, "Ana");
        assert_eq!(v.tracks.map(|t| t.len()), Some(MAX_QUEUE + 100));
    }

    #[test]
    fn search_lists_album_tracks_and_tracks_once_each() {
        let s = svc();
        let mut m = MusicController::default();
        let v = m.search(&s, "so");
        let Some(TrackList::Rows(rows)) = v.tracks else {
            panic!("search results are held whole")
        };
        let items: Vec<_> = rows.into_iter().map(|t| t.item).collect();
        assert_eq!(items, ["t1", "t2", "t3"]);
        assert_eq!(v.heading, Heading::SearchResults);
        assert_eq!(m.search(&s, "  ").mode, Mode::Albums);
    }

    #[test]
    fn play_all_queues_only_what_plays_and_back_returns_to_the_list() {
        let s = svc();
        let mut m = MusicController::default();
        m.open(&s, Mode::Albums);
        let v = m.open_album(&s, "album:Sol");
        assert_eq!(
            (v.mode, v.heading),
            (Mode::Album, Heading::Named("Sol".into()))
        );
        let q = m.queue_all(&s).unwrap();
        assert_eq!(q.tracks().len(), 1, "t2 is not the person's");
        assert!(m.queue_from(&s, "t2", 1).is_none());
        m.show(&s, Mode::Now);
        // Now playing → the album → the albums.
        let v = m.back(&s);
        assert_eq!(
            (v.mode, v.heading),
            (Mode::Album, Heading::Named("Sol".into()))
        );
        assert_eq!(v.tracks.map(|t| t.len()), Some(2), "the album's tracks");
        assert_eq!(m.back(&s).mode, Mode::Albums);
    }

    #[test]
    fn an_artist_opens_as_a_list_and_back_goes_to_artists() {
        let s = svc();
        let mut m = MusicController::default();
        m.open(&s, Mode::Artists);
        let v = m.open_artist(&s, "Beto");
        assert_eq!(v.tracks.unwrap().len(), 1);
        assert_eq!(m.back(&s).mode, Mode::Artists);
        assert_eq!(
            m.back(&s).mode,
            Mode::Albums,
            "an empty way back ends at albums"
        );
    }

    #[test]
    fn playlists_are_made_refused_with_a_reason_and_filled_once() {
        let s = svc();
        let mut m = MusicController::default();
        let (ok, v) = m.create_playlist(&s, " ");
        assert!(!ok);
        assert_eq!(v.notice, ContentNotice::PlaylistName);
        let (ok, v) = m.create_playlist(&s, "Mañana");
        assert!(ok);
        assert_eq!(v.playlists[0].name, "Mañana");
        let t1 = s.tracks[0].clone();
        assert_eq!(
            m.add_to_playlist(&s, 1, &t1),
            ContentNotice::AddedTo("Mañana".into())
        );
        assert_eq!(m.add_to_playlist(&s, 1, &t1), ContentNotice::None);
        let v = m.open_playlist(&s, 1);
        assert_eq!(v.heading, Heading::Named("Mañana".into()));
        assert_eq!(v.tracks.unwrap(), TrackList::Rows(vec![t1]));
    }

    #[test]
    fn modes_round_trip_and_unknown_names_open_albums() {
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), m);
        }
        assert_eq!(Mode::parse("settings"), Mode::Albums);
    }
}
