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
    fn tracks(&self) -> Result<Vec<TrackRow>, CoreError>;
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
    pub tracks: Option<Vec<TrackRow>>,
}

fn logged<T: Default>(what: &str, r: Result<T, CoreError>) -> T {
    super::logged(what, r)
}

/// The Music page's controller: the list on screen and the way back.
#[derive(Default)]
pub struct MusicController {
    mode: Option<Mode>,
    /// Tracks of the list on screen (what "Play all" plays).
    view: Vec<TrackRow>,
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
            Mode::Artists => {
                let mut artists: Vec<(String, u32)> = Vec::new();
                for t in logged("tracks", svc.tracks()) {
                    match artists.iter_mut().find(|(a, _)| *a == t.artist) {
                        Some(x) => x.1 += 1,
                        None => artists.push((t.artist, 1)),
                    }
                }
                v.artists = Some(artists);
            }
            Mode::Tracks => v.tracks = Some(self.set_view(logged("tracks", svc.tracks()))),
            Mode::Playlists | Mode::Now | Mode::Album | Mode::Playlist => {}
        }
        self.mode = Some(mode);
        v
    }

    fn set_view(&mut self, tracks: Vec<TrackRow>) -> Vec<TrackRow> {
        self.view = tracks.clone();
        tracks
    }

    fn list(
        &mut self,
        svc: &impl MusicService,
        heading: Heading,
        tracks: Vec<TrackRow>,
    ) -> MusicView {
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
        let mut v = self.list(svc, Heading::Named(title), tracks);
        v.mode = Mode::Album;
        self.mode = Some(Mode::Album);
        self.listed = Some((Mode::Album, v.heading.clone()));
        v
    }

    pub fn open_artist(&mut self, svc: &impl MusicService, artist: &str) -> MusicView {
        let tracks = logged("tracks", svc.tracks())
            .into_iter()
            .filter(|t| t.artist == artist)
            .collect();
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
        let v = self.list(svc, Heading::Named(name), tracks);
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
        let tracks = self.set_view(tracks);
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

    /// The queue a tap on `item` plays: the list on screen from there.
    pub fn queue_from(&self, item: &str) -> Option<Queue> {
        Queue::of(&self.view, Some(item))
    }

    /// "Play all": the list on screen from the top; Now playing will go
    /// back to it.
    pub fn queue_all(&mut self) -> Option<Queue> {
        let q = Queue::of(&self.view, None)?;
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

/// The page's adapter properties from its view. `cover` turns a cover
/// file into an image (cached by the caller); `playing` is the queue entry
/// the output has loaded.
pub(in crate::ui) fn show(
    ui: &AppWindow,
    v: &MusicView,
    playing: Option<&str>,
    mut cover: impl FnMut(&Option<PathBuf>) -> Option<slint::Image>,
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
        g.set_albums(model(
            albums
                .iter()
                .map(|a| {
                    let img = cover(&a.cover);
                    AlbumCard {
                        item: a.item.clone().into(),
                        title: a.title.clone().into(),
                        artist: a.artist.clone().into(),
                        has_cover: img.is_some(),
                        cover: img.unwrap_or_default(),
                        note: tr.invoke_tracks_yours(a.playable as i32, a.tracks as i32),
                    }
                })
                .collect(),
        ));
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
    if let Some(tracks) = &v.tracks {
        g.set_tracks(model(track_lines(tracks, playing)));
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
        fn tracks(&self) -> Result<Vec<TrackRow>, CoreError> {
            Ok(self.tracks.clone())
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
    fn artists_are_counted_in_the_order_met() {
        let s = svc();
        let v = MusicController::default().open(&s, Mode::Artists);
        assert_eq!(v.artists.unwrap(), [("Ana".into(), 2), ("Beto".into(), 1)]);
        assert!(v.albums.is_none() && v.tracks.is_none());
    }

    #[test]
    fn search_lists_album_tracks_and_tracks_once_each() {
        let s = svc();
        let mut m = MusicController::default();
        let v = m.search(&s, "so");
        let items: Vec<_> = v.tracks.unwrap().into_iter().map(|t| t.item).collect();
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
        let q = m.queue_all().unwrap();
        assert_eq!(q.tracks().len(), 1, "t2 is not the person's");
        assert!(m.queue_from("t2").is_none());
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
        assert_eq!(v.tracks.unwrap(), vec![t1]);
    }

    #[test]
    fn modes_round_trip_and_unknown_names_open_albums() {
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), m);
        }
        assert_eq!(Mode::parse("settings"), Mode::Albums);
    }
}
