//! The player bar: the queue, play and pause, skipping, the volume under
//! the policy's cap, moving on at a track's end, and a lesson's narration.
//!
//! [`Queue`] is pure. [`PlayerController`] drives an [`Audio`] output over
//! a [`PlayerService`]; its tests use a recorded output and an in-memory
//! service, no window and no sound card. [`show`] is the one place the
//! player's view becomes adapter properties.

use std::path::{Path, PathBuf};

use slint::{ComponentHandle, SharedString};

use super::{TrackRow, model, track_lines};
use crate::player::{PlayError, Player, Status};
use crate::tablet::{CoreError, PlayerState};
use crate::ui::{AppWindow, PlayerAdapter};

/// What the player bar needs of the tablet, for the person signed in.
pub trait PlayerService {
    /// The file of a track the person may play.
    fn track_file(&self, item: &str) -> Result<PathBuf, CoreError>;
    fn track_by_ref(&self, ref_id: &str) -> Result<Option<TrackRow>, CoreError>;
    /// The policy's volume cap, in percent.
    fn volume_cap(&self) -> Result<u32, CoreError>;
    fn save_state(&self, state: &PlayerState) -> Result<(), CoreError>;
    fn saved_state(&self) -> Result<Option<PlayerState>, CoreError>;
}

/// The sound output the controller drives: the real [`Player`] on a
/// tablet, a recording in tests.
pub trait Audio {
    fn load(&self, id: &str, path: &Path, start_ms: u64, duration_ms: u64, play: bool);
    fn play(&self);
    fn pause(&self);
    fn stop(&self);
    fn set_volume(&self, v: f32);
    fn status(&self) -> Status;
}

impl Audio for Player {
    fn load(&self, id: &str, path: &Path, start_ms: u64, duration_ms: u64, play: bool) {
        Player::load(self, id, path, start_ms, duration_ms, play)
    }
    fn play(&self) {
        Player::play(self)
    }
    fn pause(&self) {
        Player::pause(self)
    }
    fn stop(&self) {
        Player::stop(self)
    }
    fn set_volume(&self, v: f32) {
        Player::set_volume(self, v)
    }
    fn status(&self) -> Status {
        Player::status(self)
    }
}

/// The tracks queued and which one is current.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Queue {
    tracks: Vec<TrackRow>,
    index: usize,
}

impl Queue {
    /// The playable tracks of `tracks`, starting at `item` (the first
    /// when `None`); `None` when `item` is not among them or none plays.
    pub fn of(tracks: &[TrackRow], item: Option<&str>) -> Option<Queue> {
        let tracks: Vec<TrackRow> = tracks.iter().filter(|t| t.playable).cloned().collect();
        let index = match item {
            Some(item) => tracks.iter().position(|t| t.item == item)?,
            None if tracks.is_empty() => return None,
            None => 0,
        };
        Some(Queue { tracks, index })
    }

    pub fn tracks(&self) -> &[TrackRow] {
        &self.tracks
    }
    pub fn index(&self) -> usize {
        self.index
    }
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }
    pub fn current(&self) -> Option<&TrackRow> {
        self.tracks.get(self.index)
    }

    /// The entry `by` steps away, held at the ends.
    pub fn step(&self, by: i64) -> Option<usize> {
        if self.tracks.is_empty() {
            return None;
        }
        Some((self.index as i64 + by).clamp(0, self.tracks.len() as i64 - 1) as usize)
    }

    /// Where to go when the current track has ended: the next entry,
    /// or nowhere at the last.
    pub fn after_end(&self) -> Option<usize> {
        (self.index + 1 < self.tracks.len()).then_some(self.index + 1)
    }

    /// What to remember at logout, given what the output is doing.
    pub fn saved(&self, st: &Status) -> Option<PlayerState> {
        if self.tracks.is_empty() {
            return None;
        }
        Some(PlayerState {
            queue: self.tracks.iter().map(|t| t.ref_id.clone()).collect(),
            index: self.index,
            position_ms: if st.track.is_some() {
                st.position_ms
            } else {
                0
            },
            playing: st.playing,
        })
    }

    /// A saved queue, with the tracks that no longer play left out. The
    /// index stays on the same track where it can.
    pub fn restored(
        state: &PlayerState,
        track: impl Fn(&str) -> Option<TrackRow>,
    ) -> Option<Queue> {
        let mut tracks = Vec::new();
        let mut index = 0;
        for (i, r) in state.queue.iter().enumerate() {
            if let Some(t) = track(r).filter(|t| t.playable) {
                if i <= state.index {
                    index = tracks.len();
                }
                tracks.push(t);
            }
        }
        (!tracks.is_empty()).then_some(Queue { tracks, index })
    }
}

/// What the player bar and Now playing show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlayerView {
    /// A music track is loaded or queued (narration keeps the bar hidden).
    pub loaded: bool,
    pub playing: bool,
    pub current: Option<TrackRow>,
    pub position_ms: u64,
    pub duration_ms: u64,
    pub queue: Vec<TrackRow>,
    /// Where the queue stands: "Up next" lists from here, not what played.
    pub index: usize,
    /// The current entry, when the output has it loaded.
    pub playing_item: Option<String>,
    /// Why it stopped, when it stopped on its own.
    pub problem: Option<PlayProblem>,
}

/// What the player bar says when playing stopped on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayProblem {
    /// The track would not play (the next one is tried).
    Track,
    /// No sound comes out: the person can try again, or tell staff.
    Output,
}

impl PlayerView {
    pub fn progress(&self) -> f32 {
        if self.duration_ms == 0 {
            0.0
        } else {
            (self.position_ms as f32 / self.duration_ms as f32).min(1.0)
        }
    }
}

/// A lesson's narration, as its page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NarrationView {
    pub playing: bool,
    pub position_ms: u64,
    pub duration_ms: u64,
}

const NARRATION: &str = "narration:";

/// The id the output knows a lesson's narration by.
pub fn narration_id(course: &str, lesson: usize) -> String {
    format!("{NARRATION}{course}#{lesson}")
}

pub struct PlayerController<A: Audio> {
    audio: A,
    queue: Queue,
    /// The output's `ended` count already acted on.
    ended_seen: u64,
    volume_set: Option<f32>,
}

impl<A: Audio> PlayerController<A> {
    pub fn new(audio: A) -> Self {
        let ended_seen = audio.status().ended;
        PlayerController {
            audio,
            queue: Queue::default(),
            ended_seen,
            volume_set: None,
        }
    }

    pub fn status(&self) -> Status {
        self.audio.status()
    }

    /// Play through another output from now on.
    pub fn use_audio(&mut self, audio: A) {
        self.ended_seen = audio.status().ended;
        self.audio = audio;
        self.volume_set = None;
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The current entry's item, when the output has it loaded.
    pub fn playing_item(&self) -> Option<String> {
        let loaded = self.audio.status().track?;
        self.queue
            .current()
            .filter(|t| t.item == loaded)
            .map(|t| t.item.clone())
    }

    /// Play `queue` from its current entry.
    pub fn play_queue(&mut self, svc: &impl PlayerService, queue: Queue) -> Result<(), CoreError> {
        let i = queue.index;
        self.queue = queue;
        self.start(svc, i, 0, true)
    }

    /// Load queue entry `i` at `at_ms`. A track the person may no longer
    /// play is refused, and the output is left as it was.
    pub fn start(
        &mut self,
        svc: &impl PlayerService,
        i: usize,
        at_ms: u64,
        play: bool,
    ) -> Result<(), CoreError> {
        let Some(t) = self.queue.tracks.get(i).cloned() else {
            return Ok(());
        };
        let path = svc.track_file(&t.item)?;
        self.queue.index = i;
        self.ended_seen = self.audio.status().ended;
        self.audio.load(&t.item, &path, at_ms, t.duration_ms, play);
        self.volume_set = None;
        Ok(())
    }

    pub fn toggle(&mut self, svc: &impl PlayerService) -> Result<(), CoreError> {
        let st = self.audio.status();
        // The last track played to its end: Play starts the queue again.
        let finished = st.track.is_some()
            && !st.playing
            && st.duration_ms > 0
            && st.position_ms >= st.duration_ms
            && self.queue.after_end().is_none();
        if st.playing {
            self.audio.pause();
        } else if st.error.is_some() && !self.queue.is_empty() {
            // The output failed (or the track would not open): Play
            // opens the current entry again, where it stopped.
            let at = if st.track.is_some() {
                st.position_ms
            } else {
                0
            };
            return self.start(svc, self.queue.index, at, true);
        } else if finished && !self.queue.is_empty() {
            return self.start(svc, 0, 0, true);
        } else if st.track.is_some() {
            self.audio.play();
        } else if !self.queue.is_empty() {
            return self.start(svc, self.queue.index, 0, true);
        }
        Ok(())
    }

    /// Music closed by the policy (curfew, lockdown, the day's cap): a
    /// playing track pauses where it is. A lesson's narration is the
    /// lesson's, and goes on. Says whether it paused.
    pub fn pause_music(&mut self) -> bool {
        let st = self.audio.status();
        let music = st
            .track
            .as_deref()
            .is_some_and(|t| !t.starts_with(NARRATION));
        if st.playing && music {
            self.audio.pause();
            return true;
        }
        false
    }

    /// Close the player: the music stops and the bar goes away. The queue
    /// is kept for the person, as at logout.
    pub fn close(&mut self, svc: &impl PlayerService) -> Result<(), CoreError> {
        let st = self.audio.status();
        let saved = match self.queue.saved(&st) {
            Some(state) => svc.save_state(&state),
            None => Ok(()),
        };
        self.audio.stop();
        self.queue = Queue::default();
        self.ended_seen = self.audio.status().ended;
        saved
    }

    pub fn skip(&mut self, svc: &impl PlayerService, by: i64) -> Result<(), CoreError> {
        match self.queue.step(by) {
            Some(i) => self.start(svc, i, 0, true),
            None => Ok(()),
        }
    }

    /// The person's volume, never above the policy's cap; the output is
    /// told only when the level changes (or after a load).
    pub fn apply_volume(&mut self, percent: u8, cap: u32) {
        let v = u32::from(percent).min(cap) as f32 / 100.0;
        if self.volume_set != Some(v) {
            self.audio.set_volume(v);
            self.volume_set = Some(v);
        }
    }

    /// Called each second and after taps: move on at a track's end, then
    /// what the bar shows. A failed move on stops at the track that ended.
    pub fn tick(&mut self, svc: &impl PlayerService) -> Result<PlayerView, CoreError> {
        let st = self.audio.status();
        let mut moved = Ok(());
        if st.ended > self.ended_seen {
            self.ended_seen = st.ended;
            let ours = self
                .queue
                .current()
                .is_some_and(|t| st.track.is_none() || st.track.as_deref() == Some(&t.item));
            if let Some(next) = self.queue.after_end().filter(|_| ours) {
                moved = self.start(svc, next, 0, true);
            }
        }
        let view = self.view();
        moved.map(|()| view)
    }

    pub fn view(&self) -> PlayerView {
        let st = self.audio.status();
        let current = self.queue.current().cloned();
        let narrating = st
            .track
            .as_deref()
            .is_some_and(|t| t.starts_with(NARRATION));
        let duration_ms = match (st.duration_ms, &current) {
            (0, Some(t)) => t.duration_ms,
            (d, _) => d,
        };
        PlayerView {
            loaded: (st.track.is_some() || current.is_some()) && !narrating,
            playing: st.playing,
            playing_item: self.playing_item(),
            current,
            position_ms: st.position_ms,
            duration_ms,
            queue: self.queue.tracks.clone(),
            index: self.queue.index,
            problem: st.error.as_ref().map(|e| match e {
                PlayError::Track(_) => PlayProblem::Track,
                PlayError::Output(_) => PlayProblem::Output,
            }),
        }
    }

    /// Narration takes the output; the music queue is let go.
    pub fn toggle_narration(&mut self, id: &str, path: &Path) {
        let st = self.audio.status();
        if st.track.as_deref() == Some(id) {
            if st.playing {
                self.audio.pause();
            } else {
                self.audio.play();
            }
        } else {
            self.queue = Queue::default();
            self.audio.load(id, path, 0, 0, true);
            self.volume_set = None;
        }
    }

    pub fn narration(&self, id: Option<&str>) -> NarrationView {
        let st = self.audio.status();
        match id {
            Some(id) if st.track.as_deref() == Some(id) => NarrationView {
                playing: st.playing,
                position_ms: st.position_ms,
                duration_ms: st.duration_ms,
            },
            _ => NarrationView::default(),
        }
    }

    /// At login: the person's queue comes back where they left it,
    /// playing if it was playing.
    pub fn restore(&mut self, svc: &impl PlayerService) -> Result<(), CoreError> {
        let Some(state) = svc.saved_state()? else {
            return Ok(());
        };
        let queue = Queue::restored(&state, |r| {
            svc.track_by_ref(r)
                .map_err(|e| tracing::warn!("restoring {r}: {e}"))
                .ok()
                .flatten()
        });
        let Some(queue) = queue else { return Ok(()) };
        let i = queue.index;
        self.queue = queue;
        // The saved position belongs to the saved track only.
        let same = state.queue.get(state.index) == self.queue.current().map(|t| &t.ref_id);
        let at = if same { state.position_ms } else { 0 };
        self.start(svc, i, at, state.playing)
    }

    /// At logout: remember what was playing for the person, then stop, so
    /// the next person hears nothing of it. The output stops even when
    /// saving fails.
    pub fn end_session(&mut self, svc: Option<&impl PlayerService>) -> Result<(), CoreError> {
        let st = self.audio.status();
        let saved = match (svc, self.queue.saved(&st)) {
            (Some(svc), Some(state)) => svc.save_state(&state),
            _ => Ok(()),
        };
        self.audio.stop();
        self.queue = Queue::default();
        self.ended_seen = self.audio.status().ended;
        saved
    }
}

/// The player bar's adapter properties from its view.
pub(in crate::ui) fn show(ui: &AppWindow, view: &PlayerView, cover: Option<slint::Image>) {
    let p = ui.global::<PlayerAdapter>();
    p.set_loaded(view.loaded);
    p.set_playing(view.playing);
    if let Some(t) = &view.current {
        p.set_title(t.title.clone().into());
        p.set_artist(t.artist.clone().into());
        p.set_album(t.album.clone().into());
        p.set_has_cover(cover.is_some());
        p.set_cover(cover.unwrap_or_default());
    }
    let tr = ui.global::<crate::ui::Tr>();
    p.set_problem(match view.problem {
        None => SharedString::default(),
        Some(PlayProblem::Track) => tr.invoke_play_problem_track(),
        Some(PlayProblem::Output) => tr.invoke_play_problem_output(),
    });
    p.set_elapsed(super::mmss(view.position_ms).into());
    p.set_total(super::length_mmss(view.duration_ms).into());
    p.set_progress(view.progress());
    let from = view.index.min(view.queue.len());
    p.set_queue_from(from as i32);
    p.set_queue(model(track_lines(
        &view.queue[from..],
        view.playing_item.as_deref(),
    )));
}

/// The player bar hidden (after logout).
pub(in crate::ui) fn hide(ui: &AppWindow) {
    let p = ui.global::<PlayerAdapter>();
    p.set_loaded(false);
    p.set_playing(false);
    p.set_title(SharedString::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    pub(crate) fn track(item: &str, playable: bool) -> TrackRow {
        TrackRow {
            item: item.into(),
            ref_id: format!("ref-{item}"),
            title: format!("Title {item}"),
            artist: "Artist".into(),
            album: "Album".into(),
            album_item: "album:1".into(),
            number: 1,
            duration_ms: 60_000,
            playable,
        }
    }

    /// An output that does what it is told, at once, and records it.
    #[derive(Default)]
    struct Recorded {
        st: RefCell<Status>,
        volume: RefCell<Vec<f32>>,
    }
    impl Audio for &Recorded {
        fn load(&self, id: &str, _: &Path, start_ms: u64, duration_ms: u64, play: bool) {
            let mut s = self.st.borrow_mut();
            s.track = Some(id.into());
            s.position_ms = start_ms;
            s.duration_ms = duration_ms;
            s.playing = play;
            s.error = None;
        }
        fn play(&self) {
            let mut s = self.st.borrow_mut();
            s.playing = s.track.is_some();
        }
        fn pause(&self) {
            self.st.borrow_mut().playing = false;
        }
        fn stop(&self) {
            let mut s = self.st.borrow_mut();
            s.track = None;
            s.playing = false;
            s.position_ms = 0;
        }
        fn set_volume(&self, v: f32) {
            self.volume.borrow_mut().push(v);
        }
        fn status(&self) -> Status {
            self.st.borrow().clone()
        }
    }
    impl Recorded {
        /// The loaded track plays to its end.
        fn end(&self) {
            let mut s = self.st.borrow_mut();
            s.ended += 1;
            s.playing = false;
        }
    }

    #[derive(Default)]
    struct Svc {
        tracks: Vec<TrackRow>,
        refused: Vec<String>,
        saved: RefCell<Option<PlayerState>>,
    }
    impl PlayerService for Svc {
        fn track_file(&self, item: &str) -> Result<PathBuf, CoreError> {
            if self.refused.iter().any(|r| r == item) {
                return Err(CoreError::Refused(crate::tablet::Refusal::Content(
                    crate::tablet::ContentRefusal::NotEntitled(item.into()),
                )));
            }
            Ok(PathBuf::from(format!("/music/{item}.flac")))
        }
        fn track_by_ref(&self, r: &str) -> Result<Option<TrackRow>, CoreError> {
            Ok(self.tracks.iter().find(|t| t.ref_id == r).cloned())
        }
        fn volume_cap(&self) -> Result<u32, CoreError> {
            Ok(60)
        }
        fn save_state(&self, state: &PlayerState) -> Result<(), CoreError> {
            *self.saved.borrow_mut() = Some(state.clone());
            Ok(())
        }
        fn saved_state(&self) -> Result<Option<PlayerState>, CoreError> {
            Ok(self.saved.borrow().clone())
        }
    }

    fn three() -> Vec<TrackRow> {
        vec![track("a", true), track("b", false), track("c", true)]
    }

    #[test]
    fn a_queue_holds_only_what_plays_and_starts_where_asked() {
        let q = Queue::of(&three(), Some("c")).unwrap();
        let items: Vec<_> = q.tracks().iter().map(|t| t.item.as_str()).collect();
        assert_eq!(items, ["a", "c"]);
        assert_eq!(q.current().unwrap().item, "c");
        assert!(Queue::of(&three(), Some("b")).is_none(), "b does not play");
        assert!(Queue::of(&[track("x", false)], None).is_none());
        assert_eq!(q.step(5), Some(1));
        assert_eq!(q.step(-5), Some(0));
        assert_eq!(q.after_end(), None);
    }

    #[test]
    fn a_restored_queue_skips_lost_tracks_and_keeps_its_place() {
        let state = PlayerState {
            queue: vec!["ref-a".into(), "ref-gone".into(), "ref-c".into()],
            index: 2,
            position_ms: 5_000,
            playing: true,
        };
        let all = three();
        let q = Queue::restored(&state, |r| all.iter().find(|t| t.ref_id == r).cloned()).unwrap();
        assert_eq!(q.current().unwrap().item, "c");
        assert_eq!(q.tracks().len(), 2);
        let none = Queue::restored(&state, |_| None);
        assert!(none.is_none());
    }

    #[test]
    fn the_queue_moves_on_at_a_tracks_end_and_stops_at_the_last() {
        let out = Recorded::default();
        let svc = Svc::default();
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), None).unwrap())
            .unwrap();
        assert_eq!(p.playing_item().as_deref(), Some("a"));
        out.end();
        let v = p.tick(&svc).unwrap();
        assert_eq!(v.playing_item.as_deref(), Some("c"));
        assert!(v.playing);
        out.end();
        let v = p.tick(&svc).unwrap();
        assert_eq!(v.current.unwrap().item, "c", "stays on the last");
        assert!(!v.playing);
        // The same end is acted on once.
        let v = p.tick(&svc).unwrap();
        assert_eq!(v.current.unwrap().item, "c");
    }

    #[test]
    fn a_failed_output_says_so_and_play_opens_the_track_again_where_it_stopped() {
        let out = Recorded::default();
        let svc = Svc::default();
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), None).unwrap())
            .unwrap();
        assert_eq!(p.view().problem, None);
        // The output stops taking samples 7 s in.
        {
            let mut s = out.st.borrow_mut();
            s.position_ms = 7_000;
            s.playing = false;
            s.error = Some(PlayError::Output("the device took no samples".into()));
        }
        let v = p.tick(&svc).unwrap();
        assert_eq!(v.problem, Some(PlayProblem::Output));
        assert!(!v.playing, "the bar shows Play, not a stuck Pause");
        assert_eq!(v.playing_item.as_deref(), Some("a"), "the queue stays put");
        // Play: the same track is opened again at 7 s (the recorded output
        // clears the error on load, as the real one does).
        out.st.borrow_mut().error = None;
        out.st.borrow_mut().track = Some("a".into());
        out.st.borrow_mut().error = Some(PlayError::Output("x".into()));
        p.toggle(&svc).unwrap();
        let st = out.st.borrow().clone();
        assert_eq!(st.track.as_deref(), Some("a"));
        assert_eq!(st.position_ms, 7_000);
        assert!(st.playing);
        assert_eq!(st.error, None);
    }

    #[test]
    fn a_track_that_will_not_open_says_so_and_the_next_one_plays() {
        let out = Recorded::default();
        let svc = Svc::default();
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), None).unwrap())
            .unwrap();
        // The player passes over a damaged track as one that ended.
        {
            let mut s = out.st.borrow_mut();
            s.error = Some(PlayError::Track("damaged".into()));
        }
        assert_eq!(p.view().problem, Some(PlayProblem::Track));
        out.end();
        let v = p.tick(&svc).unwrap();
        assert_eq!(v.playing_item.as_deref(), Some("c"));
        assert_eq!(v.problem, None, "the next track loads clean");
    }

    #[test]
    fn a_refused_track_leaves_the_output_as_it_was() {
        let out = Recorded::default();
        let svc = Svc {
            refused: vec!["c".into()],
            ..Svc::default()
        };
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), None).unwrap())
            .unwrap();
        let e = p.skip(&svc, 1).unwrap_err();
        assert!(matches!(
            e,
            CoreError::Refused(crate::tablet::Refusal::Content(
                crate::tablet::ContentRefusal::NotEntitled(_)
            ))
        ));
        assert_eq!(p.playing_item().as_deref(), Some("a"));
    }

    #[test]
    fn toggle_pauses_resumes_and_restarts_a_stopped_queue() {
        let out = Recorded::default();
        let svc = Svc::default();
        let mut p = PlayerController::new(&out);
        p.toggle(&svc).unwrap();
        assert!(!(&out).status().playing, "nothing queued, nothing plays");
        p.play_queue(&svc, Queue::of(&three(), Some("c")).unwrap())
            .unwrap();
        p.toggle(&svc).unwrap();
        assert!(!(&out).status().playing);
        p.toggle(&svc).unwrap();
        assert!((&out).status().playing);
        (&out).stop();
        p.toggle(&svc).unwrap();
        assert_eq!((&out).status().track.as_deref(), Some("c"));
    }

    #[test]
    fn volume_is_capped_and_sent_only_when_it_changes() {
        let out = Recorded::default();
        let mut p = PlayerController::new(&out);
        p.apply_volume(90, 60);
        p.apply_volume(90, 60);
        p.apply_volume(40, 60);
        assert_eq!(*out.volume.borrow(), vec![0.6, 0.4]);
    }

    #[test]
    fn logout_saves_the_queue_and_stops_and_login_brings_it_back() {
        let out = Recorded::default();
        let svc = Svc {
            tracks: three(),
            ..Svc::default()
        };
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), Some("c")).unwrap())
            .unwrap();
        out.st.borrow_mut().position_ms = 12_000;
        p.end_session(Some(&svc)).unwrap();
        assert_eq!((&out).status().track, None, "the next person hears nothing");
        assert!(p.view().current.is_none());
        let saved = svc.saved.borrow().clone().unwrap();
        assert_eq!(saved.queue, ["ref-a", "ref-c"]);
        assert_eq!(
            (saved.index, saved.position_ms, saved.playing),
            (1, 12_000, true)
        );

        p.restore(&svc).unwrap();
        let st = (&out).status();
        assert_eq!(st.track.as_deref(), Some("c"));
        assert_eq!(st.position_ms, 12_000);
        assert!(st.playing);
    }

    #[test]
    fn a_closed_music_feature_pauses_music_but_not_narration() {
        let out = Recorded::default();
        let svc = Svc {
            tracks: three(),
            ..Svc::default()
        };
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), None).unwrap())
            .unwrap();
        assert!((&out).status().playing);
        assert!(p.pause_music(), "music pauses");
        assert!(!(&out).status().playing);
        assert!(!p.pause_music(), "already paused");
        let id = narration_id("course:1", 0);
        p.toggle_narration(&id, Path::new("/n.ogg"));
        assert!(!p.pause_music(), "a lesson's narration goes on");
        assert!(p.narration(Some(&id)).playing);
    }

    #[test]
    fn narration_takes_the_output_and_hides_the_bar() {
        let out = Recorded::default();
        let svc = Svc::default();
        let mut p = PlayerController::new(&out);
        p.play_queue(&svc, Queue::of(&three(), None).unwrap())
            .unwrap();
        let id = narration_id("course:1", 0);
        p.toggle_narration(&id, Path::new("/n.ogg"));
        assert!(p.queue().is_empty());
        assert!(!p.view().loaded);
        assert!(p.narration(Some(&id)).playing);
        assert_eq!(
            p.narration(Some("narration:other#1")),
            NarrationView::default()
        );
        p.toggle_narration(&id, Path::new("/n.ogg"));
        assert!(!p.narration(Some(&id)).playing);
    }
}
