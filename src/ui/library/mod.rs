//! The Learn, Books and Music pages and the player bar, one module each,
//! over the shell's [`Core`]. What they remember between taps is the
//! [`Library`] state; the logic worth testing alone lives in the pure
//! [`QuizRun`], [`Reader`] and the player's queue.

mod books;
mod learn;
mod music;
mod player;

pub(in crate::ui) use books::open_books;
use books::*;
pub(in crate::ui) use learn::open_learn;
use learn::*;
pub(in crate::ui) use music::open_music;
use music::*;
use player::*;
pub(in crate::ui) use player::{apply_volume, update_player};

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use slint::{
    ComponentHandle, Image, Model, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use super::AppWindow;
use super::shell::Core;
use crate::domain::content::{Block, Span};
use crate::player::Player;
use crate::tablet::PlayerState;
use crate::tablet::{Completed, TrackRow};
use crate::ui::quiz::{Next, QuizRun};
use crate::ui::reader::{self, Reader};
use crate::ui::{
    AlbumCard, AppState, BookRow, BooksAdapter, ChoiceRow, CourseCardRow, LearnAdapter,
    LessonBlock, MarkRow, MusicAdapter, NamedRow, ParaRow, PlayerAdapter, ReviewRow, SearchRow,
    StepRow, Theme, Tr, TrackLine,
};

/// What the content pages remember between taps.
pub(super) struct Library {
    pub(super) player: Player,
    queue: Vec<TrackRow>,
    index: usize,
    ended_seen: u64,
    /// The course open, and the lesson open in it.
    course: Option<String>,
    lesson: Option<usize>,
    quiz: Option<QuizRun>,
    book: Option<Reader>,
    learn_kind: String,
    learn_subject: String,
    /// Tracks of the list on screen (what "Play all" plays).
    view: Vec<TrackRow>,
    music_back: Vec<String>,
    covers: HashMap<PathBuf, Option<Image>>,
    /// Each album's cover file, by album item.
    album_covers: HashMap<String, Option<PathBuf>>,
    volume_set: Option<f32>,
    /// The open lesson's narration file.
    narration: Option<PathBuf>,
}

impl Library {
    pub(super) fn new(player: Player) -> Self {
        Library {
            player,
            queue: Vec::new(),
            index: 0,
            ended_seen: 0,
            course: None,
            lesson: None,
            quiz: None,
            book: None,
            learn_kind: "all".into(),
            learn_subject: String::new(),
            view: Vec::new(),
            music_back: Vec::new(),
            covers: HashMap::new(),
            album_covers: HashMap::new(),
            volume_set: None,
            narration: None,
        }
    }

    /// Whether time on the current page is metered (a free book is not).
    pub(super) fn reading_free(&self, page: &str) -> bool {
        page == "books" && self.book.as_ref().is_some_and(|b| b.free)
    }
}

/// What the person is told when content cannot be used: the one place
/// these refusals become text. The log has the detail.
pub(super) fn content_notice(tr: &Tr<'_>, e: &crate::tablet::CoreError) -> SharedString {
    use crate::tablet::{ContentRefusal, CoreError, Refusal};
    match e {
        CoreError::Refused(Refusal::Content(ContentRefusal::NotEntitled(title))) => {
            tr.invoke_not_entitled(title.as_str().into())
        }
        CoreError::Refused(Refusal::Content(ContentRefusal::PlaylistName)) => {
            tr.invoke_playlist_name_rule()
        }
        other => {
            tracing::warn!("content refused: {other}");
            tr.invoke_cannot_play()
        }
    }
}

/// The value of a read, or its default with the failure in the log: a
/// page with nothing to show says so, and the log has why.
pub(super) fn logged<T: Default>(what: &str, r: Result<T, crate::tablet::CoreError>) -> T {
    r.map_err(|e| tracing::error!("reading {what}: {e}"))
        .unwrap_or_default()
}

pub(super) fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

pub(super) fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

pub(super) fn png_image(path: &Path) -> Option<Image> {
    let (w, h, rgba) = crate::content::decode_png(path).ok()?;
    let buf = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(&rgba, w, h);
    Some(Image::from_rgba8(buf))
}

pub(super) fn cover(lib: &mut Library, path: &Option<PathBuf>) -> Option<Image> {
    let p = path.as_ref()?;
    lib.covers
        .entry(p.clone())
        .or_insert_with(|| png_image(p))
        .clone()
}

// ------------------------------------------------------------------ sessions

/// At logout: remember what was playing for the person, then stop, so the
/// next person hears nothing of it.
pub(super) fn on_logout(ui: &AppWindow, c: &mut Core) {
    let st = c.lib.player.status();
    if let Some(s) = &c.session
        && !c.lib.queue.is_empty()
    {
        let state = PlayerState {
            queue: c.lib.queue.iter().map(|t| t.ref_id.clone()).collect(),
            index: c.lib.index,
            position_ms: if st.track.is_some() {
                st.position_ms
            } else {
                0
            },
            playing: st.playing,
        };
        let saved = c.t().library().save_player(s, &state);
        if let Err(e) = saved {
            tracing::error!("saving the player: {e}");
        }
    }
    c.lib.player.stop();
    c.lib.queue.clear();
    c.lib.index = 0;
    c.lib.book = None;
    c.lib.quiz = None;
    c.lib.course = None;
    c.lib.lesson = None;
    c.lib.view.clear();
    c.lib.ended_seen = c.lib.player.status().ended;
    ui.global::<PlayerAdapter>().set_loaded(false);
    ui.global::<PlayerAdapter>().set_playing(false);
}

/// At login: the person's queue comes back where they left it, playing if
/// it was playing.
pub(super) fn on_login(ui: &AppWindow, c: &mut Core) {
    let Some(s) = &c.session else { return };
    let saved = logged("player state", c.t().library().player_state(s));
    let Some(state) = saved else { return };
    let mut queue = Vec::new();
    for r in &state.queue {
        if let Ok(Some(t)) = c.t().library().track_by_ref(s, r)
            && t.playable
        {
            queue.push(t);
        }
    }
    if queue.is_empty() {
        return;
    }
    let i = state.index.min(queue.len() - 1);
    c.lib.queue = queue;
    start(ui, c, i, state.position_ms, state.playing);
}

// ------------------------------------------------------------------ wiring

pub(super) fn wire(ui: &AppWindow, core: &Rc<RefCell<Core>>) {
    macro_rules! on {
        ($global:ident, $cb:ident, |$u:ident, $c:ident $(, $arg:ident : $t:ty)*| $body:expr) => {{
            let weak = ui.as_weak();
            let core = core.clone();
            ui.global::<$global>().$cb(move |$($arg: $t),*| {
                let Some($u) = weak.upgrade() else { return };
                let mut guard = core.borrow_mut();
                let $c = &mut *guard;
                $body;
            });
        }};
    }
    on!(LearnAdapter, on_home, |u, _c| u
        .global::<AppState>()
        .set_page("home".into()));
    on!(LearnAdapter, on_back, |u, c| learn_back(&u, c));
    on!(LearnAdapter, on_open_course, |u, c, item: SharedString| {
        open_course(&u, c, &item)
    });
    on!(LearnAdapter, on_open_step, |u, c, place: SharedString| {
        open_step(&u, c, &place)
    });
    on!(LearnAdapter, on_open_result, |u, c, item: SharedString| {
        open_result(&u, c, &item)
    });
    on!(LearnAdapter, on_search, |u, c, text: SharedString| {
        learn_search(&u, c, &text)
    });
    on!(LearnAdapter, on_pick_kind, |u, c, kind: SharedString| {
        c.lib.learn_kind = kind.to_string();
        u.global::<LearnAdapter>().set_kind(kind);
        let q = u.global::<LearnAdapter>().get_query();
        learn_search(&u, c, &q)
    });
    on!(
        LearnAdapter,
        on_pick_subject,
        |u, c, subject: SharedString| {
            c.lib.learn_subject = subject.to_string();
            fill_courses(&u, c);
            let q = u.global::<LearnAdapter>().get_query();
            learn_search(&u, c, &q)
        }
    );
    on!(LearnAdapter, on_finish_lesson, |u, c| finish_lesson(&u, c));
    on!(LearnAdapter, on_toggle_narration, |u, c| toggle_narration(
        &u, c
    ));
    on!(LearnAdapter, on_choose, |u, c, i: i32| choose(
        &u,
        c,
        i.max(0) as usize
    ));
    on!(LearnAdapter, on_next_question, |u, c| next_question(&u, c));
    on!(LearnAdapter, on_retry, |u, c| {
        if let Some(q) = &c.lib.quiz {
            let (course, unit) = (q.course.clone(), q.unit);
            open_quiz(&u, c, &course, unit);
        }
    });

    on!(BooksAdapter, on_home, |u, c| {
        c.lib.book = None;
        u.global::<AppState>().set_page("home".into())
    });
    on!(BooksAdapter, on_back, |u, c| {
        c.lib.book = None;
        u.global::<BooksAdapter>().set_mode("list".into());
        let q = u.global::<BooksAdapter>().get_query();
        fill_books(&u, c, &q)
    });
    on!(BooksAdapter, on_open, |u, c, item: SharedString| open_book(
        &u, c, &item
    ));
    on!(BooksAdapter, on_search, |u, c, text: SharedString| {
        fill_books(&u, c, &text)
    });
    on!(BooksAdapter, on_prev_page, |u, c| turn(&u, c, -1));
    on!(BooksAdapter, on_next_page, |u, c| turn(&u, c, 1));
    on!(BooksAdapter, on_toggle_mark, |u, c| toggle_mark(&u, c));
    on!(BooksAdapter, on_go_mark, |u, c, para: i32| go_mark(
        &u,
        c,
        para.max(0) as usize
    ));

    on!(MusicAdapter, on_home, |u, _c| u
        .global::<AppState>()
        .set_page("home".into()));
    on!(MusicAdapter, on_back, |u, c| music_back(&u, c));
    on!(MusicAdapter, on_show, |u, c, mode: SharedString| {
        if mode == "now" {
            push_music(&u, c);
        } else {
            c.lib.music_back.clear();
        }
        show_music(&u, c, &mode)
    });
    on!(MusicAdapter, on_open_album, |u, c, item: SharedString| {
        open_album(&u, c, &item)
    });
    on!(MusicAdapter, on_open_artist, |u, c, name: SharedString| {
        open_artist(&u, c, &name)
    });
    on!(MusicAdapter, on_open_playlist, |u, c, id: SharedString| {
        open_playlist(&u, c, &id)
    });
    on!(MusicAdapter, on_play_track, |u, c, item: SharedString| {
        play_track(&u, c, &item)
    });
    on!(MusicAdapter, on_play_all, |u, c| play_all(&u, c));
    on!(MusicAdapter, on_search, |u, c, text: SharedString| {
        music_search(&u, c, &text)
    });
    on!(
        MusicAdapter,
        on_create_playlist,
        |u, c, name: SharedString| {
            if let Some(s) = &c.session {
                let made = c.t().library().create_playlist(s, &name);
                match made {
                    Ok(_) => u
                        .global::<MusicAdapter>()
                        .set_new_playlist(SharedString::default()),
                    Err(e) => u
                        .global::<MusicAdapter>()
                        .set_notice(content_notice(&u.global::<Tr>(), &e)),
                }
            }
            show_music(&u, c, "playlists")
        }
    );
    on!(
        MusicAdapter,
        on_add_to_playlist,
        |u, c, id: SharedString| {
            if let (Some(s), Some(t), Ok(id)) = (
                &c.session,
                c.lib.queue.get(c.lib.index).cloned(),
                id.parse::<i64>(),
            ) {
                let added = c.t().library().add_to_playlist(s, id, &t.ref_id);
                let name = c
                    .t()
                    .library()
                    .playlists(s)
                    .unwrap_or_default()
                    .into_iter()
                    .find(|p| p.0 == id)
                    .map(|p| p.1)
                    .unwrap_or_default();
                if added.is_ok_and(|a| a) {
                    let tr = u.global::<Tr>();
                    u.global::<MusicAdapter>()
                        .set_notice(tr.invoke_added_to(name.into()));
                }
            }
        }
    );

    on!(PlayerAdapter, on_toggle, |u, c| toggle(&u, c));
    on!(PlayerAdapter, on_next, |u, c| skip(&u, c, 1));
    on!(PlayerAdapter, on_prev, |u, c| skip(&u, c, -1));
    on!(PlayerAdapter, on_play_index, |u, c, i: i32| start(
        &u,
        c,
        i.max(0) as usize,
        0,
        true
    ));
    on!(PlayerAdapter, on_open_now, |u, c| {
        open_music(&u, c, "now");
        c.lib.music_back.push("albums".into())
    });
}
