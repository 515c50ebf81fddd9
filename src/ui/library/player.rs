//! The player bar: the queue, play and pause, skipping, the volume under
//! the policy's cap, and moving on at a track's end.

#[allow(unused_imports)]
use super::*;

/// Load queue entry `i` at `at_ms`.
pub(super) fn start(ui: &AppWindow, c: &mut Core, i: usize, at_ms: u64, play: bool) {
    let Some(s) = &c.session else { return };
    let Some(t) = c.lib.queue.get(i).cloned() else {
        return;
    };
    let file = c.t().library().track_file(s, &t.item);
    match file {
        Ok(path) => {
            c.lib.index = i;
            c.lib.ended_seen = c.lib.player.status().ended;
            c.lib
                .player
                .load(&t.item, &path, at_ms, t.duration_ms, play);
            apply_volume(c, true);
        }
        Err(e) => ui
            .global::<MusicAdapter>()
            .set_notice(content_notice(&ui.global::<Tr>(), &e)),
    }
    update_player(ui, c);
}

/// The player's volume: the person's, never above the policy's cap.
pub(in crate::ui) fn apply_volume(c: &mut Core, force: bool) {
    let cap = c
        .session
        .as_ref()
        .and_then(|s| c.t().people().decision_for(s.person()).ok())
        .map(|d| d.max_volume_percent)
        .unwrap_or(80);
    let v = (c.volume as u32).min(cap) as f32 / 100.0;
    if force || c.lib.volume_set != Some(v) {
        c.lib.player.set_volume(v);
        c.lib.volume_set = Some(v);
    }
}

pub(super) fn toggle(ui: &AppWindow, c: &mut Core) {
    let st = c.lib.player.status();
    if st.playing {
        c.lib.player.pause();
    } else if st.track.is_some() {
        c.lib.player.play();
    } else if !c.lib.queue.is_empty() {
        let i = c.lib.index;
        start(ui, c, i, 0, true);
    }
    update_player(ui, c);
}

pub(super) fn skip(ui: &AppWindow, c: &mut Core, by: i64) {
    if c.lib.queue.is_empty() {
        return;
    }
    let i = (c.lib.index as i64 + by).clamp(0, c.lib.queue.len() as i64 - 1) as usize;
    start(ui, c, i, 0, true);
}

/// Refresh the player bar and Now playing; advance the queue at a
/// track's end. Called by the shell's one-second timer and after taps.
pub(in crate::ui) fn update_player(ui: &AppWindow, c: &mut Core) {
    let st = c.lib.player.status();
    if st.ended > c.lib.ended_seen {
        c.lib.ended_seen = st.ended;
        let is_queue =
            c.lib.queue.get(c.lib.index).is_some_and(|t| {
                st.track.is_none() || st.track.as_deref() == Some(t.item.as_str())
            });
        if is_queue && c.lib.index + 1 < c.lib.queue.len() {
            let i = c.lib.index + 1;
            start(ui, c, i, 0, true);
            return;
        }
    }
    let p = ui.global::<PlayerAdapter>();
    let current = c.lib.queue.get(c.lib.index).cloned();
    let loaded = st.track.is_some() || current.is_some();
    p.set_loaded(
        loaded
            && st
                .track
                .as_deref()
                .is_none_or(|t| !t.starts_with("narration:")),
    );
    p.set_playing(st.playing);
    if let Some(t) = &current {
        p.set_title(t.title.clone().into());
        p.set_artist(t.artist.clone().into());
        p.set_album(t.album.clone().into());
        // The album's cover, looked up once per album, not every second.
        if !c.lib.album_covers.contains_key(&t.album_item) {
            let cover_path = c
                .session
                .as_ref()
                .and_then(|s| c.t().library().albums(s).ok())
                .and_then(|a| a.into_iter().find(|a| a.item == t.album_item))
                .and_then(|a| a.cover);
            c.lib.album_covers.insert(t.album_item.clone(), cover_path);
        }
        let cover_path = c.lib.album_covers.get(&t.album_item).cloned().flatten();
        let img = cover(&mut c.lib, &cover_path);
        p.set_has_cover(img.is_some());
        p.set_cover(img.unwrap_or_default());
    }
    let dur = if st.duration_ms > 0 {
        st.duration_ms
    } else {
        current.as_ref().map(|t| t.duration_ms).unwrap_or(0)
    };
    p.set_elapsed(mmss(st.position_ms).into());
    p.set_total(mmss(dur).into());
    p.set_progress(if dur == 0 {
        0.0
    } else {
        (st.position_ms as f32 / dur as f32).min(1.0)
    });
    p.set_queue(model(track_lines(c, &c.lib.queue.clone())));
    if ui.global::<AppState>().get_page() == "learn" {
        update_narration(ui, c);
    }
}
