//! The Learn, Books and Music pages and the player bar, one controller
//! module each. Every controller works over its own narrow service trait
//! (bound to the tablet in `ui/services.rs`) and is unit-tested without a
//! window; each module's `show` is the one place its view becomes adapter
//! properties and translated text. This file holds what they share and
//! wires the pages' callbacks to them.

mod books;
mod learn;
mod music;
mod player;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use slint::{
    ComponentHandle, Image, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use super::AppWindow;
use super::services::SessionLibrary;
use super::shell::Core;
use crate::player::Player;
use crate::tablet::{ContentRefusal, CoreError, Refusal, TrackRow};
use crate::ui::{
    AppState, BooksAdapter, LearnAdapter, MusicAdapter, PlayerAdapter, StatusAdapter, Theme, Tr,
    TrackLine,
};
pub use books::{BooksController, BooksService};
pub use learn::{LearnController, LearnService};
pub use music::{MusicController, MusicService, Playlist};
pub mod paged;
pub use player::{Audio, PlayerController, PlayerService, Queue};

/// A search result, in the person's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub item: String,
    /// `course`, `lesson`, `book`, `album` or `track`.
    pub kind: String,
    pub ref_id: String,
    pub title: String,
    pub subtitle: String,
}

impl Hit {
    pub fn new(item: &str, kind: &str, ref_id: &str, title: &str) -> Hit {
        Hit {
            item: item.into(),
            kind: kind.into(),
            ref_id: ref_id.into(),
            title: title.into(),
            subtitle: String::new(),
        }
    }
}

/// The line a content page shows after a tap that changed something or
/// was refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ContentNotice {
    #[default]
    None,
    AddedTo(String),
    NotEntitled(String),
    PlaylistName,
    /// Anything else: the person is told it cannot be used now; the log
    /// has the detail.
    CannotPlay,
    /// A course, lesson, quiz or book that would not open (or a step that
    /// could not be recorded).
    CannotOpen,
}

impl ContentNotice {
    /// The notice for a refusal: the one place content refusals are
    /// sorted for the person.
    pub fn of(e: &CoreError) -> ContentNotice {
        match e {
            CoreError::Refused(Refusal::Content(ContentRefusal::NotEntitled(title))) => {
                ContentNotice::NotEntitled(title.clone())
            }
            CoreError::Refused(Refusal::Content(ContentRefusal::PlaylistName)) => {
                ContentNotice::PlaylistName
            }
            other => {
                tracing::warn!("content refused: {other}");
                ContentNotice::CannotPlay
            }
        }
    }

    /// The notice for something that would not open: the refusals the
    /// person can act on by name, anything else as "cannot be opened".
    pub fn of_opening(e: &CoreError) -> ContentNotice {
        match ContentNotice::of(e) {
            ContentNotice::CannotPlay => ContentNotice::CannotOpen,
            n => n,
        }
    }

    pub(in crate::ui) fn text(&self, tr: &Tr<'_>) -> SharedString {
        match self {
            ContentNotice::None => SharedString::default(),
            ContentNotice::AddedTo(name) => tr.invoke_added_to(name.into()),
            ContentNotice::NotEntitled(title) => tr.invoke_not_entitled(title.into()),
            ContentNotice::PlaylistName => tr.invoke_playlist_name_rule(),
            ContentNotice::CannotPlay => tr.invoke_cannot_play(),
            ContentNotice::CannotOpen => tr.invoke_cannot_open(),
        }
    }
}

/// The value of a read, or its default with the failure in the log: a
/// page with nothing to show says so, and the log has why.
pub(super) fn logged<T: Default>(what: &str, r: Result<T, CoreError>) -> T {
    r.map_err(|e| tracing::error!("reading {what}: {e}"))
        .unwrap_or_default()
}

/// What the content pages remember between taps: a controller each, and
/// the images already decoded.
pub(super) struct Library {
    pub(super) player: PlayerController<Player>,
    learn: LearnController,
    books: BooksController,
    music: MusicController,
    covers: HashMap<PathBuf, Option<Image>>,
    /// Each album's cover file, by album item.
    album_covers: HashMap<String, Option<PathBuf>>,
}

impl Library {
    pub(super) fn new(player: Player) -> Self {
        Library {
            player: PlayerController::new(player),
            learn: LearnController::default(),
            books: BooksController::default(),
            music: MusicController::default(),
            covers: HashMap::new(),
            album_covers: HashMap::new(),
        }
    }

    /// Whether time on the current page is metered (a free book is not).
    pub(super) fn reading_free(&self, page: &str) -> bool {
        page == "books" && self.books.reading_free()
    }

    fn cover(&mut self, path: &Option<PathBuf>) -> Option<Image> {
        let p = path.as_ref()?;
        // Now playing shows one cover at a time; a few are kept.
        if self.covers.len() >= COVERS_KEPT && !self.covers.contains_key(p) {
            self.covers.clear();
        }
        self.covers
            .entry(p.clone())
            .or_insert_with(|| cover_image(p))
            .clone()
    }
}

pub(super) fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

pub(super) use crate::domain::time::{length_mmss, mmss};

/// Covers are shown at most this many pixels across (a tile is 232).
pub(super) const COVER_SIDE: u32 = 256;
/// Covers the player keeps decoded.
const COVERS_KEPT: usize = 8;

/// A cover, scaled down by whole steps to at most [`COVER_SIDE`] across:
/// a 512×512 cover held at full size costs 1 MiB, scaled 256 KiB.
pub(super) fn cover_image(path: &Path) -> Option<Image> {
    let (w, h, rgba) = crate::content::decode_png(path).ok()?;
    let step = w.max(h).div_ceil(COVER_SIDE).max(1);
    if step == 1 {
        let buf = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(&rgba, w, h);
        return Some(Image::from_rgba8(buf));
    }
    let (sw, sh) = ((w / step).max(1), (h / step).max(1));
    let mut out = SharedPixelBuffer::<Rgba8Pixel>::new(sw, sh);
    let px = out.make_mut_slice();
    for y in 0..sh {
        for x in 0..sw {
            let mut sum = [0u32; 4];
            for dy in 0..step {
                for dx in 0..step {
                    let i = (((y * step + dy) * w + x * step + dx) * 4) as usize;
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += u32::from(rgba[i + c]);
                    }
                }
            }
            let n = step * step;
            px[(y * sw + x) as usize] = Rgba8Pixel {
                r: (sum[0] / n) as u8,
                g: (sum[1] / n) as u8,
                b: (sum[2] / n) as u8,
                a: (sum[3] / n) as u8,
            };
        }
    }
    Some(Image::from_rgba8(out))
}

pub(super) fn png_image(path: &Path) -> Option<Image> {
    let (w, h, rgba) = crate::content::decode_png(path).ok()?;
    let buf = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(&rgba, w, h);
    Some(Image::from_rgba8(buf))
}

/// Track rows; `playing` marks the one the output has loaded.
pub(super) fn track_lines(tracks: &[TrackRow], playing: Option<&str>) -> Vec<TrackLine> {
    tracks
        .iter()
        .map(|t| TrackLine {
            item: t.item.clone().into(),
            title: t.title.clone().into(),
            artist: t.artist.clone().into(),
            album: t.album.clone().into(),
            length: length_mmss(t.duration_ms).into(),
            playable: t.playable,
            current: playing == Some(t.item.as_str()),
        })
        .collect()
}

/// What a paged track list fetches with: the tablet and, weakly, the
/// person signed in (after logout a list left on screen fetches nothing).
fn track_fetcher(c: &Core) -> impl FnOnce() -> music::FetchTracks + use<> {
    let tablet = c.tablet.clone();
    let session = c.session.as_ref().map(Rc::downgrade);
    move || {
        Box::new(move |artist, offset, limit| {
            let Some(s) = session.as_ref().and_then(std::rc::Weak::upgrade) else {
                return Vec::new();
            };
            logged(
                "tracks",
                SessionLibrary::new(&tablet, &s).tracks_page(artist, offset, limit),
            )
        })
    }
}

/// The service for the person signed in, beside the content state.
fn parts(c: &mut Core) -> Option<(SessionLibrary<'_>, &mut Library)> {
    let s = c.session.as_ref()?;
    Some((SessionLibrary::new(&c.tablet, s), &mut c.lib))
}

/// The reader's budget: from the page box the Books page reports, at the
/// body text's size.
fn budget(ui: &AppWindow) -> usize {
    let g = ui.global::<BooksAdapter>();
    let (w, h) = (g.get_page_width(), g.get_page_height());
    if w > 0.0 && h > 0.0 {
        crate::ui::reader::budget_for_box(w, h, ui.global::<Theme>().get_font_large())
    } else {
        crate::ui::reader::budget(ui.global::<Theme>().get_large_text())
    }
}

// ------------------------------------------------------------------ pages

pub(in crate::ui) fn open_learn(ui: &AppWindow, c: &mut Core) {
    let Some((svc, lib)) = parts(c) else { return };
    let g = ui.global::<LearnAdapter>();
    g.set_query(SharedString::default());
    g.set_notice(SharedString::default());
    learn::show_results(ui, &[]);
    learn::show(ui, &learn::Screen::List(lib.learn.list(&svc)));
    ui.global::<AppState>().set_page("learn".into());
}

pub(in crate::ui) fn open_books(ui: &AppWindow, c: &mut Core) {
    let Some((svc, lib)) = parts(c) else { return };
    lib.books.close();
    let g = ui.global::<BooksAdapter>();
    g.set_mode("list".into());
    g.set_query(SharedString::default());
    g.set_notice(SharedString::default());
    books::show_list(ui, &lib.books.list(&svc, ""));
    ui.global::<AppState>().set_page("books".into());
}

pub(in crate::ui) fn open_music(ui: &AppWindow, c: &mut Core, mode: music::Mode) {
    let cap = volume_cap(c).min(100) as i32;
    ui.global::<PlayerAdapter>().set_volume_cap(cap);
    let fetch = track_fetcher(c);
    let Some((svc, lib)) = parts(c) else { return };
    ui.global::<MusicAdapter>()
        .set_query(SharedString::default());
    let v = lib.music.open(&svc, mode);
    show_music(ui, &svc, lib, &v, fetch);
    ui.global::<AppState>().set_page("music".into());
}

pub(in crate::ui) use music::Mode as MusicMode;

fn show_music(
    ui: &AppWindow,
    svc: &SessionLibrary<'_>,
    lib: &mut Library,
    v: &music::MusicView,
    fetch: impl FnOnce() -> music::FetchTracks,
) {
    let playing = lib.player.playing_item();
    music::show(ui, v, playing.as_deref(), fetch);
    if v.mode == music::Mode::Now {
        let view = lib.player.view();
        show_player(ui, svc, lib, Ok(view));
    }
}

fn show_book_page(ui: &AppWindow, v: Option<books::PageView>) {
    if let Some(v) = v {
        books::show_page(ui, &v);
    }
}

// ------------------------------------------------------------------ player

/// The person's volume under the policy's cap (80 with no one signed in).
/// The policy's volume cap for the person signed in.
fn volume_cap(c: &mut Core) -> u32 {
    match parts(c) {
        Some((svc, _)) => svc
            .volume_cap()
            .map_err(|e| tracing::error!("reading the volume cap: {e}"))
            .unwrap_or(80),
        None => 80,
    }
}

pub(in crate::ui) fn apply_volume(c: &mut Core) {
    let cap = volume_cap(c);
    c.lib.player.apply_volume(c.volume, cap);
}

/// Ten points up or down a step, from the volume keys or the player's
/// buttons; never above the policy's cap, so what shows is what plays.
pub(in crate::ui) fn change_volume(c: &mut Core, steps: i32) -> u8 {
    let cap = volume_cap(c).min(100) as i32;
    c.volume = (i32::from(c.volume).min(cap) + steps * 10).clamp(0, cap) as u8;
    apply_volume(c);
    c.volume
}

fn show_player(
    ui: &AppWindow,
    svc: &SessionLibrary<'_>,
    lib: &mut Library,
    view: Result<player::PlayerView, CoreError>,
) {
    let view = match view {
        Ok(v) => v,
        Err(e) => {
            ui.global::<MusicAdapter>()
                .set_notice(ContentNotice::of(&e).text(&ui.global::<Tr>()));
            lib.player.view()
        }
    };
    // The album's cover, looked up once per album, not every second.
    let cover = match &view.current {
        Some(t) => {
            if !lib.album_covers.contains_key(&t.album_item) {
                let path = logged("albums", svc.albums())
                    .into_iter()
                    .find(|a| a.item == t.album_item)
                    .and_then(|a| a.cover);
                lib.album_covers.insert(t.album_item.clone(), path);
            }
            let path = lib.album_covers.get(&t.album_item).cloned().flatten();
            lib.cover(&path)
        }
        None => None,
    };
    player::show(ui, &view, cover);
}

fn show_narration(ui: &AppWindow, lib: &mut Library) {
    let id = lib.learn.narration().map(|(id, _)| id);
    let mut n = lib.player.narration(id.as_deref());
    if n.duration_ms == 0 {
        // Not played yet: the length its header gives.
        n.duration_ms = lib.learn.narration_length_ms();
    }
    let g = ui.global::<LearnAdapter>();
    g.set_narrating(n.playing);
    g.set_narration_time(
        format!("{} / {}", mmss(n.position_ms), length_mmss(n.duration_ms)).into(),
    );
    g.set_narration_progress(if n.duration_ms == 0 {
        0.0
    } else {
        n.position_ms as f32 / n.duration_ms as f32
    });
}

/// Music is closed by the policy: a playing track pauses.
pub(in crate::ui) fn pause_music(c: &mut Core) {
    if c.lib.player.pause_music() {
        tracing::info!("music paused: the policy closed it");
    }
}

/// Refresh the player bar and Now playing, moving the queue on at a
/// track's end. Called by the shell's one-second timer and after taps.
pub(in crate::ui) fn update_player(ui: &AppWindow, c: &mut Core) {
    let Some((svc, lib)) = parts(c) else {
        player::show(ui, &c.lib.player.view(), None);
        return;
    };
    let view = lib.player.tick(&svc);
    show_player(ui, &svc, lib, view);
    if ui.global::<AppState>().get_page() == "learn" {
        show_narration(ui, lib);
    }
}

/// Run a player action, then the volume and the bar.
fn player_do(
    ui: &AppWindow,
    c: &mut Core,
    f: impl FnOnce(&SessionLibrary<'_>, &mut PlayerController<Player>) -> Result<(), CoreError>,
) {
    if let Some((svc, lib)) = parts(c) {
        let done = f(&svc, &mut lib.player);
        if let Err(e) = done {
            ui.global::<MusicAdapter>()
                .set_notice(ContentNotice::of(&e).text(&ui.global::<Tr>()));
        }
    }
    apply_volume(c);
    update_player(ui, c);
}

// ------------------------------------------------------------------ sessions

/// At logout: remember what was playing for the person, then stop, so the
/// next person hears nothing of it.
pub(super) fn on_logout(ui: &AppWindow, c: &mut Core) {
    let svc = c
        .session
        .as_ref()
        .map(|s| SessionLibrary::new(&c.tablet, s));
    if let Err(e) = c.lib.player.end_session(svc.as_ref()) {
        tracing::error!("saving the player: {e}");
    }
    c.lib.books.close();
    c.lib.learn = LearnController::default();
    c.lib.music = MusicController::default();
    player::hide(ui);
}

/// At login: the person's queue comes back where they left it, playing if
/// it was playing.
pub(super) fn on_login(ui: &AppWindow, c: &mut Core) {
    player_do(ui, c, |svc, p| p.restore(svc));
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
    /// A Learn tap: the controller's screen, if it has a new one.
    fn learn_do(
        ui: &AppWindow,
        c: &mut Core,
        f: impl FnOnce(&SessionLibrary<'_>, &mut LearnController) -> Option<learn::Screen>,
    ) {
        let Some((svc, lib)) = parts(c) else { return };
        let screen = f(&svc, &mut lib.learn);
        let notice = lib.learn.take_notice();
        ui.global::<LearnAdapter>()
            .set_notice(notice.text(&ui.global::<Tr>()));
        if let Some(screen) = screen {
            learn::show(ui, &screen);
            if matches!(screen, learn::Screen::Lesson(_)) {
                show_narration(ui, lib);
            }
        }
    }
    fn learn_search(ui: &AppWindow, c: &mut Core) {
        let Some((svc, lib)) = parts(c) else { return };
        let q = ui.global::<LearnAdapter>().get_query();
        learn::show_results(ui, &lib.learn.search(&svc, &q));
    }
    fn books_do(
        ui: &AppWindow,
        c: &mut Core,
        f: impl FnOnce(&SessionLibrary<'_>, &mut BooksController, usize) -> Option<books::PageView>,
    ) {
        let b = budget(ui);
        let Some((svc, lib)) = parts(c) else { return };
        show_book_page(ui, f(&svc, &mut lib.books, b));
    }
    fn music_do(
        ui: &AppWindow,
        c: &mut Core,
        f: impl FnOnce(&SessionLibrary<'_>, &mut MusicController) -> music::MusicView,
    ) {
        let fetch = track_fetcher(c);
        let Some((svc, lib)) = parts(c) else { return };
        let v = f(&svc, &mut lib.music);
        show_music(ui, &svc, lib, &v, fetch);
    }
    /// Play a queue the Music page made, then show Now playing.
    fn play(ui: &AppWindow, c: &mut Core, queue: Option<Queue>) {
        let Some(queue) = queue else { return };
        player_do(ui, c, |svc, p| p.play_queue(svc, queue));
        music_do(ui, c, |svc, m| m.show(svc, MusicMode::Now));
    }

    on!(LearnAdapter, on_home, |u, _c| u
        .global::<AppState>()
        .set_page("home".into()));
    on!(LearnAdapter, on_back, |u, c| learn_do(
        &u,
        c,
        |svc, l| Some(l.back(svc))
    ));
    on!(LearnAdapter, on_open_course, |u, c, item: SharedString| {
        learn_do(&u, c, |svc, l| l.open_course(svc, &item))
    });
    on!(LearnAdapter, on_open_step, |u, c, place: SharedString| {
        learn_do(&u, c, |svc, l| l.open_step(svc, &place))
    });
    on!(LearnAdapter, on_open_result, |u, c, item: SharedString| {
        learn_do(&u, c, |svc, l| l.open_result(svc, &item))
    });
    on!(LearnAdapter, on_search, |u, c, _text: SharedString| {
        learn_search(&u, c)
    });
    on!(LearnAdapter, on_pick_kind, |u, c, kind: SharedString| {
        c.lib.learn.pick_kind(learn::Kind::parse(&kind));
        u.global::<LearnAdapter>().set_kind(kind);
        learn_search(&u, c)
    });
    on!(
        LearnAdapter,
        on_pick_subject,
        |u, c, subject: SharedString| {
            c.lib.learn.pick_subject(&subject);
            learn_do(&u, c, |svc, l| Some(learn::Screen::List(l.list(svc))));
            learn_search(&u, c)
        }
    );
    on!(LearnAdapter, on_finish_lesson, |u, c| learn_do(
        &u,
        c,
        |svc, l| l.finish_lesson(svc)
    ));
    on!(LearnAdapter, on_toggle_narration, |u, c| {
        if let Some((id, path)) = c.lib.learn.narration() {
            c.lib.player.toggle_narration(&id, &path);
            apply_volume(c);
            show_narration(&u, &mut c.lib);
            update_player(&u, c);
        }
    });
    on!(LearnAdapter, on_choose, |u, c, i: i32| learn_do(
        &u,
        c,
        |svc, l| l.choose(svc, i.max(0) as usize)
    ));
    on!(LearnAdapter, on_next_question, |u, c| learn_do(
        &u,
        c,
        |svc, l| l.next_question(svc)
    ));
    on!(LearnAdapter, on_retry, |u, c| learn_do(&u, c, |svc, l| l
        .retry(svc)));

    on!(BooksAdapter, on_home, |u, c| {
        c.lib.books.close();
        u.global::<AppState>().set_page("home".into())
    });
    on!(BooksAdapter, on_back, |u, c| {
        let q = u.global::<BooksAdapter>().get_query();
        if let Some((svc, lib)) = parts(c) {
            lib.books.close();
            u.global::<BooksAdapter>().set_mode("list".into());
            books::show_list(&u, &lib.books.list(&svc, &q));
        }
    });
    on!(BooksAdapter, on_open, |u, c, item: SharedString| {
        let b = budget(&u);
        if let Some((svc, lib)) = parts(c) {
            let g = u.global::<BooksAdapter>();
            match lib.books.open(&svc, &item, b) {
                Ok(v) => {
                    g.set_notice(SharedString::default());
                    g.set_show_marks(false);
                    books::show_page(&u, &v);
                    g.set_mode("reader".into());
                }
                Err(e) => {
                    tracing::warn!("opening {item}: {e}");
                    g.set_notice(ContentNotice::of_opening(&e).text(&u.global::<Tr>()));
                }
            }
        }
    });
    on!(BooksAdapter, on_search, |u, c, text: SharedString| {
        if let Some((svc, lib)) = parts(c) {
            books::show_list(&u, &lib.books.list(&svc, &text));
        }
    });
    on!(BooksAdapter, on_prev_page, |u, c| books_do(
        &u,
        c,
        |svc, b, n| b.turn(svc, -1, n)
    ));
    on!(BooksAdapter, on_next_page, |u, c| books_do(
        &u,
        c,
        |svc, b, n| b.turn(svc, 1, n)
    ));
    on!(BooksAdapter, on_toggle_mark, |u, c| books_do(
        &u,
        c,
        |svc, b, n| b.toggle_mark(svc, n)
    ));
    {
        // The page box changed (the bookmark panel, the text size, a
        // banner): fit the page to it again, at the same place.
        let weak = ui.as_weak();
        let core = core.clone();
        ui.global::<BooksAdapter>().on_relayout(move || {
            let Some(u) = weak.upgrade() else { return };
            let Ok(mut guard) = core.try_borrow_mut() else {
                // Laid out while a tap is being answered: right after it.
                let weak = weak.clone();
                slint::Timer::single_shot(std::time::Duration::ZERO, move || {
                    if let Some(u) = weak.upgrade() {
                        u.global::<BooksAdapter>().invoke_relayout();
                    }
                });
                return;
            };
            if u.global::<BooksAdapter>().get_mode() == "reader" {
                books_do(&u, &mut guard, |svc, b, n| b.page(svc, n));
            }
        });
    }
    on!(BooksAdapter, on_go_mark, |u, c, para: i32| books_do(
        &u,
        c,
        |svc, b, n| b.go_mark(svc, para.max(0) as usize, n)
    ));

    on!(MusicAdapter, on_home, |u, _c| u
        .global::<AppState>()
        .set_page("home".into()));
    on!(MusicAdapter, on_back, |u, c| music_do(&u, c, |svc, m| m
        .back(svc)));
    on!(MusicAdapter, on_show, |u, c, mode: SharedString| {
        music_do(&u, c, |svc, m| m.tab(svc, MusicMode::parse(&mode)))
    });
    on!(MusicAdapter, on_open_album, |u, c, item: SharedString| {
        music_do(&u, c, |svc, m| m.open_album(svc, &item))
    });
    on!(MusicAdapter, on_open_artist, |u, c, name: SharedString| {
        music_do(&u, c, |svc, m| m.open_artist(svc, &name))
    });
    on!(MusicAdapter, on_open_playlist, |u, c, id: SharedString| {
        if let Ok(id) = id.parse::<i64>() {
            music_do(&u, c, |svc, m| m.open_playlist(svc, id))
        }
    });
    on!(
        MusicAdapter,
        on_play_track,
        |u, c, item: SharedString, index: i32| {
            let Some((svc, lib)) = parts(c) else { return };
            let q = lib.music.queue_from(&svc, &item, index.max(0) as usize);
            play(&u, c, q)
        }
    );
    on!(MusicAdapter, on_play_all, |u, c| {
        let Some((svc, lib)) = parts(c) else { return };
        let q = lib.music.queue_all(&svc);
        play(&u, c, q)
    });
    on!(MusicAdapter, on_search, |u, c, text: SharedString| {
        music_do(&u, c, |svc, m| m.search(svc, &text))
    });
    on!(
        MusicAdapter,
        on_create_playlist,
        |u, c, name: SharedString| {
            let mut made = false;
            music_do(&u, c, |svc, m| {
                let (ok, v) = m.create_playlist(svc, &name);
                made = ok;
                v
            });
            if made {
                u.global::<MusicAdapter>()
                    .set_new_playlist(SharedString::default());
            }
        }
    );
    on!(
        MusicAdapter,
        on_add_to_playlist,
        |u, c, id: SharedString| {
            let (Some((svc, lib)), Ok(id)) = (parts(c), id.parse::<i64>()) else {
                return;
            };
            if let Some(t) = lib.player.queue().current() {
                let notice = lib.music.add_to_playlist(&svc, id, t);
                u.global::<MusicAdapter>()
                    .set_notice(notice.text(&u.global::<Tr>()));
            }
        }
    );

    on!(PlayerAdapter, on_toggle, |u, c| player_do(
        &u,
        c,
        |svc, p| p.toggle(svc)
    ));
    on!(PlayerAdapter, on_next, |u, c| player_do(&u, c, |svc, p| p
        .skip(svc, 1)));
    on!(PlayerAdapter, on_prev, |u, c| player_do(&u, c, |svc, p| p
        .skip(svc, -1)));
    on!(PlayerAdapter, on_play_index, |u, c, i: i32| player_do(
        &u,
        c,
        |svc, p| p.start(svc, i.max(0) as usize, 0, true)
    ));
    on!(PlayerAdapter, on_close, |u, c| player_do(
        &u,
        c,
        |svc, p| p.close(svc)
    ));
    on!(PlayerAdapter, on_volume, |u, c, steps: i32| {
        let v = change_volume(c, steps);
        u.global::<StatusAdapter>().set_volume(i32::from(v));
    });
    on!(PlayerAdapter, on_open_now, |u, c| {
        // Back from Now playing, opened here, goes to the albums.
        open_music(&u, c, MusicMode::Now)
    });
}
