//! The Music page: albums, artists, tracks, playlists, search and Now playing.

#[allow(unused_imports)]
use super::*;

pub(in crate::ui) fn open_music(ui: &AppWindow, c: &mut Core, mode: &str) {
    c.lib.music_back.clear();
    ui.global::<MusicAdapter>()
        .set_query(SharedString::default());
    show_music(ui, c, mode);
    ui.global::<AppState>().set_page("music".into());
}

pub(super) fn track_lines(c: &Core, tracks: &[TrackRow]) -> Vec<TrackLine> {
    let current = c.lib.queue.get(c.lib.index).map(|t| t.item.clone());
    let loaded = c.lib.player.status().track;
    tracks
        .iter()
        .map(|t| TrackLine {
            item: t.item.clone().into(),
            title: t.title.clone().into(),
            artist: t.artist.clone().into(),
            album: t.album.clone().into(),
            length: mmss(t.duration_ms).into(),
            playable: t.playable,
            current: current.as_deref() == Some(t.item.as_str())
                && loaded.as_deref() == Some(t.item.as_str()),
        })
        .collect()
}

pub(super) fn show_music(ui: &AppWindow, c: &mut Core, mode: &str) {
    let Some(s) = &c.session else { return };
    let g = ui.global::<MusicAdapter>();
    let tr = ui.global::<Tr>();
    g.set_notice(SharedString::default());
    g.set_heading(SharedString::default());
    let playlists = logged("playlists", c.t().library().playlists(s));
    g.set_playlists(model(
        playlists
            .iter()
            .map(|(id, name, n)| NamedRow {
                id: id.to_string().into(),
                name: name.clone().into(),
                note: tr.invoke_track_count(*n as i32),
            })
            .collect(),
    ));
    match mode {
        "albums" => {
            let albums = logged("albums", c.t().library().albums(s));
            let cards: Vec<AlbumCard> = albums
                .iter()
                .map(|a| {
                    let img = cover(&mut c.lib, &a.cover);
                    AlbumCard {
                        item: a.item.clone().into(),
                        title: a.title.clone().into(),
                        artist: a.artist.clone().into(),
                        has_cover: img.is_some(),
                        cover: img.unwrap_or_default(),
                        note: tr.invoke_tracks_yours(a.playable as i32, a.tracks as i32),
                    }
                })
                .collect();
            g.set_albums(model(cards));
        }
        "artists" => {
            let tracks = logged("tracks", c.t().library().tracks(s));
            let mut artists: Vec<(String, u32)> = Vec::new();
            for t in &tracks {
                match artists.iter_mut().find(|(a, _)| *a == t.artist) {
                    Some(x) => x.1 += 1,
                    None => artists.push((t.artist.clone(), 1)),
                }
            }
            g.set_artists(model(
                artists
                    .into_iter()
                    .map(|(a, n)| NamedRow {
                        id: a.clone().into(),
                        name: a.into(),
                        note: tr.invoke_track_count(n as i32),
                    })
                    .collect(),
            ));
        }
        "tracks" => {
            let tracks = logged("tracks", c.t().library().tracks(s));
            set_view(ui, c, tracks);
        }
        "now" => update_player(ui, c),
        _ => {}
    }
    g.set_mode(mode.into());
}

pub(super) fn set_view(ui: &AppWindow, c: &mut Core, tracks: Vec<TrackRow>) {
    ui.global::<MusicAdapter>()
        .set_tracks(model(track_lines(c, &tracks)));
    c.lib.view = tracks;
}

pub(super) fn push_music(ui: &AppWindow, c: &mut Core) {
    let mode = ui.global::<MusicAdapter>().get_mode().to_string();
    if c.lib.music_back.last() != Some(&mode) {
        c.lib.music_back.push(mode);
    }
}

pub(super) fn music_back(ui: &AppWindow, c: &mut Core) {
    let to = c.lib.music_back.pop().unwrap_or_else(|| "albums".into());
    let to = if matches!(to.as_str(), "album" | "playlist") {
        "albums".to_string()
    } else {
        to
    };
    show_music(ui, c, &to);
}

pub(super) fn open_album(ui: &AppWindow, c: &mut Core, item: &str) {
    let Some(s) = &c.session else { return };
    let tracks = logged("album tracks", c.t().library().album_tracks(s, item));
    push_music(ui, c);
    let title = tracks.first().map(|t| t.album.clone()).unwrap_or_default();
    set_view(ui, c, tracks);
    let g = ui.global::<MusicAdapter>();
    g.set_mode("album".into());
    g.set_heading(title.into());
    g.set_notice(SharedString::default());
}

pub(super) fn open_artist(ui: &AppWindow, c: &mut Core, artist: &str) {
    let Some(s) = &c.session else { return };
    let tracks: Vec<TrackRow> = c
        .t()
        .library()
        .tracks(s)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.artist == artist)
        .collect();
    push_music(ui, c);
    set_view(ui, c, tracks);
    let g = ui.global::<MusicAdapter>();
    g.set_mode("playlist".into());
    g.set_heading(artist.into());
}

pub(super) fn open_playlist(ui: &AppWindow, c: &mut Core, id: &str) {
    let Some(s) = &c.session else { return };
    let Ok(id) = id.parse::<i64>() else { return };
    let tracks = logged("playlist tracks", c.t().library().playlist_tracks(s, id));
    let name = c
        .t()
        .library()
        .playlists(s)
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.0 == id)
        .map(|p| p.1)
        .unwrap_or_default();
    push_music(ui, c);
    set_view(ui, c, tracks);
    let g = ui.global::<MusicAdapter>();
    g.set_mode("playlist".into());
    g.set_heading(name.into());
}

pub(super) fn music_search(ui: &AppWindow, c: &mut Core, text: &str) {
    let Some(s) = &c.session else { return };
    if text.trim().is_empty() {
        show_music(ui, c, "albums");
        return;
    }
    let rows = c
        .t()
        .library()
        .search(s, text, &["track", "album"], None)
        .unwrap_or_default();
    let mut tracks: Vec<TrackRow> = Vec::new();
    for r in rows {
        let found = if r.kind == "album" {
            logged("album tracks", c.t().library().album_tracks(s, &r.item))
        } else {
            c.t()
                .library()
                .track_by_ref(s, &r.ref_id)
                .ok()
                .flatten()
                .into_iter()
                .collect()
        };
        for t in found {
            if !tracks.iter().any(|x| x.item == t.item) {
                tracks.push(t);
            }
        }
    }
    set_view(ui, c, tracks);
    let g = ui.global::<MusicAdapter>();
    g.set_mode("tracks".into());
    g.set_heading(ui.global::<Tr>().invoke_search_results());
}

pub(super) fn play_track(ui: &AppWindow, c: &mut Core, item: &str) {
    let queue: Vec<TrackRow> = c.lib.view.iter().filter(|t| t.playable).cloned().collect();
    let Some(i) = queue.iter().position(|t| t.item == item) else {
        return;
    };
    c.lib.queue = queue;
    start(ui, c, i, 0, true);
    show_music(ui, c, "now");
}

pub(super) fn play_all(ui: &AppWindow, c: &mut Core) {
    let queue: Vec<TrackRow> = c.lib.view.iter().filter(|t| t.playable).cloned().collect();
    if queue.is_empty() {
        return;
    }
    c.lib.queue = queue;
    start(ui, c, 0, 0, true);
    push_music(ui, c);
    show_music(ui, c, "now");
}
