//! The Learn, Books and Music pages and the player bar: the controller
//! half, a child of `shell` so it shares the session and the tablet.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use slint::{
    ComponentHandle, Image, Model, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use super::{AppWindow, Core};
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

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

fn png_image(path: &Path) -> Option<Image> {
    let (w, h, rgba) = crate::content::decode_png(path).ok()?;
    let buf = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(&rgba, w, h);
    Some(Image::from_rgba8(buf))
}

fn cover(lib: &mut Library, path: &Option<PathBuf>) -> Option<Image> {
    let p = path.as_ref()?;
    lib.covers
        .entry(p.clone())
        .or_insert_with(|| png_image(p))
        .clone()
}

// ------------------------------------------------------------------ Learn

pub(super) fn open_learn(ui: &AppWindow, c: &mut Core) {
    let g = ui.global::<LearnAdapter>();
    g.set_mode("list".into());
    g.set_query(SharedString::default());
    g.set_results(model(Vec::new()));
    fill_courses(ui, c);
    ui.global::<AppState>().set_page("learn".into());
}

fn fill_courses(ui: &AppWindow, c: &mut Core) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let g = ui.global::<LearnAdapter>();
    let subject = c.lib.learn_subject.clone();
    let cards = c.t().library().courses(s).unwrap_or_default();
    let rows: Vec<CourseCardRow> = cards
        .iter()
        .filter(|k| subject.is_empty() || k.subject == subject)
        .map(|k| {
            let total = k.lessons + k.quizzes;
            let done = k.done + k.passed;
            CourseCardRow {
                item: k.item.clone().into(),
                title: k.title.clone().into(),
                description: k.description.clone().into(),
                subject: k.subject.clone().into(),
                progress: if total == 0 {
                    0.0
                } else {
                    done as f32 / total as f32
                },
                note: if k.certified {
                    tr.invoke_certified()
                } else if done == 0 {
                    tr.invoke_not_started()
                } else {
                    tr.invoke_steps_done(done as i32, total as i32)
                },
                certified: k.certified,
            }
        })
        .collect();
    g.set_courses(model(rows));
    let subjects: Vec<SharedString> = c
        .t()
        .library()
        .subjects(s, &["course"])
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    g.set_subjects(model(subjects));
    g.set_subject(subject.into());
    g.set_kind(c.lib.learn_kind.clone().into());
}

fn learn_search(ui: &AppWindow, c: &mut Core, text: &str) {
    let Some(s) = &c.session else { return };
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    let kinds: Vec<&str> = match c.lib.learn_kind.as_str() {
        "course" => vec!["course"],
        "lesson" => vec!["lesson"],
        _ => vec!["course", "lesson"],
    };
    let subject = (!c.lib.learn_subject.is_empty()).then_some(c.lib.learn_subject.as_str());
    let rows = c
        .t()
        .library()
        .search(s, text, &kinds, subject)
        .unwrap_or_default();
    let lang = s.language().to_string();
    g.set_results(model(
        rows.into_iter()
            .map(|r| SearchRow {
                item: r.item.clone().into(),
                kind: r.kind.clone().into(),
                title: match (&r.title_es, lang.as_str()) {
                    (Some(t), "es") => t.clone(),
                    _ => r.title.clone(),
                }
                .into(),
                subtitle: format!(
                    "{}{}",
                    tr.invoke_lesson_kind(r.kind.clone().into()),
                    if r.subtitle.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", r.subtitle)
                    }
                )
                .into(),
            })
            .collect(),
    ));
}

fn open_course(ui: &AppWindow, c: &mut Core, item: &str) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let view = c.t().library().course(s, item);
    let Ok(v) = view else {
        tracing::warn!("opening {item}: {:?}", view.err());
        return;
    };
    c.lib.course = Some(item.to_string());
    c.lib.lesson = None;
    c.lib.quiz = None;
    let g = ui.global::<LearnAdapter>();
    let total = v.card.lessons + v.card.quizzes;
    let done = v.card.done + v.card.passed;
    g.set_course(CourseCardRow {
        item: v.card.item.clone().into(),
        title: v.card.title.clone().into(),
        description: v.card.description.clone().into(),
        subject: v.card.subject.clone().into(),
        progress: if total == 0 {
            0.0
        } else {
            done as f32 / total as f32
        },
        note: if v.card.certified {
            tr.invoke_certified()
        } else {
            tr.invoke_steps_done(done as i32, total as i32)
        },
        certified: v.card.certified,
    });
    let mut last_unit = usize::MAX;
    let steps: Vec<StepRow> = v
        .steps
        .iter()
        .map(|st| {
            let first = st.unit != last_unit;
            last_unit = st.unit;
            StepRow {
                place: st.place.clone().into(),
                title: st.title.clone().into(),
                unit_title: st.unit_title.clone().into(),
                kind: st.place.split(':').next().unwrap_or("lesson").into(),
                done: st.done,
                note: match &st.score {
                    Some(sc) => tr.invoke_best_score(sc.into()),
                    None => SharedString::default(),
                },
                first_in_unit: first,
            }
        })
        .collect();
    let resume_title = v
        .resume
        .as_ref()
        .and_then(|p| v.steps.iter().find(|st| &st.place == p))
        .map(|st| st.title.clone())
        .unwrap_or_default();
    g.set_steps(model(steps));
    g.set_resume_place(v.resume.clone().unwrap_or_default().into());
    g.set_resume_title(resume_title.into());
    g.set_mode("course".into());
}

fn open_step(ui: &AppWindow, c: &mut Core, place: &str) {
    let Some(course) = c.lib.course.clone() else {
        return;
    };
    let Some((kind, n)) = place.split_once(':') else {
        return;
    };
    let Ok(n) = n.parse::<usize>() else { return };
    match kind {
        "lesson" => open_lesson(ui, c, &course, n),
        "quiz" => open_quiz(ui, c, &course, n),
        _ => {}
    }
}

fn styled(spans: &[Span]) -> (slint::StyledText, String) {
    let mut md = String::new();
    let mut plain = String::new();
    for sp in spans {
        let escaped: String = sp
            .text
            .chars()
            .flat_map(|ch| {
                let esc = matches!(ch, '*' | '_' | '\\' | '`' | '[' | ']' | '#' | '<' | '>');
                esc.then_some('\\').into_iter().chain(std::iter::once(ch))
            })
            .collect();
        let (open, close) = match (sp.bold, sp.italic) {
            (true, true) => ("***", "***"),
            (true, false) => ("**", "**"),
            (false, true) => ("*", "*"),
            _ => ("", ""),
        };
        // Emphasis markers must touch the words they wrap.
        let lead = escaped.len() - escaped.trim_start().len();
        let trail = escaped.len() - escaped.trim_end().len();
        if open.is_empty() || escaped.trim().is_empty() {
            md.push_str(&escaped);
        } else {
            md.push_str(&escaped[..lead]);
            md.push_str(open);
            md.push_str(escaped.trim());
            md.push_str(close);
            md.push_str(&escaped[escaped.len() - trail..]);
        }
        plain.push_str(&sp.text);
    }
    let st = slint::StyledText::from_markdown(&md)
        .unwrap_or_else(|_| slint::StyledText::from_plain_text(&plain));
    (st, plain)
}

fn open_lesson(ui: &AppWindow, c: &mut Core, course: &str, index: usize) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let view = c.t().library().lesson(s, course, index);
    let v = match view {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("opening lesson {index} of {course}: {e}");
            return;
        }
    };
    let blocks: Vec<LessonBlock> = v
        .lesson
        .blocks
        .iter()
        .map(|b| {
            let mut row = LessonBlock::default();
            match b {
                Block::Heading { level, text } => {
                    row.kind = if *level <= 2 {
                        "h2".into()
                    } else {
                        "h3".into()
                    };
                    row.plain = text.clone().into();
                }
                Block::Paragraph(sp) => {
                    let (st, plain) = styled(sp);
                    row.kind = "p".into();
                    row.text = st;
                    row.plain = plain.into();
                }
                Block::Bullet(sp) | Block::Numbered { spans: sp, .. } => {
                    let (st, plain) = styled(sp);
                    row.kind = if matches!(b, Block::Bullet(_)) {
                        "bullet".into()
                    } else {
                        "number".into()
                    };
                    row.marker = match b {
                        Block::Numbered { n, .. } => format!("{n}.").into(),
                        _ => "•".into(),
                    };
                    row.text = st;
                    row.plain = plain.into();
                }
                Block::Image { path, alt } => {
                    row.kind = "image".into();
                    row.plain = alt.clone().into();
                    if let Some(img) = png_image(&v.base.join(path)) {
                        let sz = img.size();
                        row.ratio = sz.height as f32 / sz.width.max(1) as f32;
                        row.image = img;
                    }
                }
            }
            row
        })
        .collect();
    c.lib.lesson = Some(index);
    let g = ui.global::<LearnAdapter>();
    g.set_lesson_title(v.title.clone().into());
    g.set_lesson_position(tr.invoke_lesson_of(index as i32 + 1, v.count as i32));
    g.set_blocks(model(blocks));
    g.set_lesson_done(v.done);
    g.set_has_next(index + 1 < v.count);
    g.set_has_audio(v.audio.is_some());
    c.lib.narration = v.audio.clone();
    update_narration(ui, c);
    g.set_mode("lesson".into());
}

fn narration_id(c: &Core) -> Option<String> {
    Some(format!(
        "narration:{}#{}",
        c.lib.course.as_ref()?,
        c.lib.lesson?
    ))
}

fn toggle_narration(ui: &AppWindow, c: &mut Core) {
    let (Some(id), Some(path)) = (narration_id(c), c.lib.narration.clone()) else {
        return;
    };
    let st = c.lib.player.status();
    if st.track.as_deref() == Some(id.as_str()) {
        if st.playing {
            c.lib.player.pause();
        } else {
            c.lib.player.play();
        }
    } else {
        // Narration takes the player; the music queue waits.
        c.lib.queue.clear();
        c.lib.player.load(&id, &path, 0, 0, true);
        apply_volume(c, true);
    }
    update_narration(ui, c);
    update_player(ui, c);
}

fn update_narration(ui: &AppWindow, c: &Core) {
    let g = ui.global::<LearnAdapter>();
    let st = c.lib.player.status();
    let mine = narration_id(c).is_some() && st.track == narration_id(c);
    g.set_narrating(mine && st.playing);
    let (pos, dur) = if mine {
        (st.position_ms, st.duration_ms)
    } else {
        (0, 0)
    };
    g.set_narration_time(format!("{} / {}", mmss(pos), mmss(dur)).into());
    g.set_narration_progress(if dur == 0 {
        0.0
    } else {
        pos as f32 / dur as f32
    });
}

fn finish_lesson(ui: &AppWindow, c: &mut Core) {
    let (Some(course), Some(index)) = (c.lib.course.clone(), c.lib.lesson) else {
        return;
    };
    let Some(s) = &c.session else { return };
    let done = c.t().library().complete_lesson(s, &course, index);
    match done {
        Ok(Completed::Certified(cert)) => {
            open_course(ui, c, &course);
            show_certificate(ui, &cert.course_title);
            return;
        }
        Ok(Completed::Step) => {}
        Err(e) => tracing::error!("recording the lesson: {e}"),
    }
    // The next step: the next lesson, else the unit's quiz, else the course.
    open_course(ui, c, &course);
    let steps = ui.global::<LearnAdapter>().get_steps();
    let here = format!("lesson:{index}");
    let next = (0..steps.row_count())
        .filter_map(|i| steps.row_data(i))
        .skip_while(|st| st.place != here.as_str())
        .nth(1);
    if let Some(st) = next {
        open_step(ui, c, &st.place);
    }
}

fn show_certificate(ui: &AppWindow, course: &str) {
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    g.set_certificate_note(tr.invoke_certificate_earned(course.into()));
    g.set_passed(true);
    g.set_review(model(Vec::new()));
    g.set_score(SharedString::default());
    g.set_mode("result".into());
}

fn open_quiz(ui: &AppWindow, c: &mut Core, course: &str, unit: usize) {
    let Some(s) = &c.session else { return };
    let q = c.t().library().quiz(s, course, unit);
    let doc = match q {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("opening the quiz: {e}");
            return;
        }
    };
    let title = ui
        .global::<LearnAdapter>()
        .get_steps()
        .iter()
        .find(|st| st.place == format!("quiz:{unit}").as_str())
        .map(|st| st.title.to_string())
        .unwrap_or_default();
    c.lib.quiz = Some(QuizRun::new(course, unit, doc));
    let g = ui.global::<LearnAdapter>();
    g.set_quiz_title(
        ui.global::<Tr>()
            .invoke_feature("learn".into())
            .to_string()
            .into(),
    );
    if !title.is_empty() {
        g.set_quiz_title(title.into());
    }
    show_question(ui, c);
    g.set_mode("quiz".into());
}

fn show_question(ui: &AppWindow, c: &Core) {
    let Some(q) = &c.lib.quiz else { return };
    let Some(s) = &c.session else { return };
    let lang = s.language();
    let (at, total) = q.position();
    let question = &q.doc.questions[at];
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    g.set_question(question.prompt.get(lang).into());
    g.set_question_position(tr.invoke_question_of(at as i32 + 1, total as i32));
    g.set_multiple(q.multiple());
    g.set_choices(model(
        question
            .choices
            .iter()
            .enumerate()
            .map(|(i, ch)| ChoiceRow {
                text: ch.get(lang).into(),
                chosen: q.chosen(i),
            })
            .collect(),
    ));
    g.set_last_question(q.last());
    g.set_can_next(q.can_next());
}

fn choose(ui: &AppWindow, c: &mut Core, i: usize) {
    let Some(q) = &mut c.lib.quiz else { return };
    q.choose(i);
    show_question(ui, c);
}

fn next_question(ui: &AppWindow, c: &mut Core) {
    let Some(q) = &mut c.lib.quiz else { return };
    let answers = match q.next() {
        Next::Stay => return,
        Next::Question => {
            show_question(ui, c);
            return;
        }
        Next::Done(answers) => answers,
    };
    let (course, unit) = (q.course.clone(), q.unit);
    let Some(s) = &c.session else { return };
    let submitted = c.t().library().submit_quiz(s, &course, unit, &answers);
    let (result, done) = match submitted {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("recording the quiz: {e}");
            return;
        }
    };
    let lang = s.language().to_string();
    let Some(q) = &c.lib.quiz else { return };
    let tr = ui.global::<Tr>();
    let g = ui.global::<LearnAdapter>();
    g.set_passed(result.passed);
    g.set_score(tr.invoke_score(
        result.correct as i32,
        result.total as i32,
        q.doc.pass_mark as i32,
    ));
    g.set_review(model(
        q.doc
            .questions
            .iter()
            .zip(&result.right)
            .map(|(qq, right)| ReviewRow {
                prompt: qq.prompt.get(&lang).into(),
                right: *right,
                answer: qq
                    .answer
                    .iter()
                    .filter_map(|i| qq.choices.get(*i).map(|ch| ch.get(&lang).to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
                    .into(),
                explanation: qq.explanation.get(&lang).into(),
            })
            .collect(),
    ));
    g.set_certificate_note(match &done {
        Completed::Certified(cert) => {
            tr.invoke_certificate_earned(cert.course_title.clone().into())
        }
        Completed::Step => SharedString::default(),
    });
    g.set_mode("result".into());
}

fn learn_back(ui: &AppWindow, c: &mut Core) {
    let mode = ui.global::<LearnAdapter>().get_mode();
    match (mode.as_str(), c.lib.course.clone()) {
        ("lesson" | "quiz" | "result", Some(course)) => open_course(ui, c, &course),
        _ => {
            c.lib.course = None;
            ui.global::<LearnAdapter>().set_mode("list".into());
            fill_courses(ui, c);
        }
    }
}

fn open_result(ui: &AppWindow, c: &mut Core, item: &str) {
    if item.starts_with("course:") {
        open_course(ui, c, item);
        return;
    }
    // A lesson: open its course, then the lesson.
    if !item.starts_with("lesson:") {
        return;
    }
    let course = c.t().library().lesson_place(item).ok().flatten();
    if let Some((course, pos)) = course {
        open_course(ui, c, &course);
        open_lesson(ui, c, &course, pos as usize);
    }
}

// ------------------------------------------------------------------ Books

pub(super) fn open_books(ui: &AppWindow, c: &mut Core) {
    c.lib.book = None;
    let g = ui.global::<BooksAdapter>();
    g.set_mode("list".into());
    g.set_query(SharedString::default());
    fill_books(ui, c, "");
    ui.global::<AppState>().set_page("books".into());
}

fn fill_books(ui: &AppWindow, c: &mut Core, query: &str) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let all = c.t().library().books(s).unwrap_or_default();
    let keep: Option<Vec<String>> = (!query.trim().is_empty()).then(|| {
        c.t()
            .library()
            .search(s, query, &["book"], None)
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.item)
            .collect()
    });
    let rows: Vec<BookRow> = all
        .into_iter()
        .filter(|b| keep.as_ref().is_none_or(|k| k.contains(&b.item)))
        .map(|b| {
            let progress = match (b.position, b.paras) {
                (Some(p), n) if n > 0 => (p as f32 + 1.0) / n as f32,
                _ => 0.0,
            };
            BookRow {
                item: b.item.into(),
                title: b.title.into(),
                author: b.author.into(),
                free: b.free,
                note: if b.position.is_none() {
                    tr.invoke_unread_book()
                } else {
                    format!("{}%", (progress * 100.0).round() as u32).into()
                },
                progress,
            }
        })
        .collect();
    ui.global::<BooksAdapter>().set_books(model(rows));
}

fn open_book(ui: &AppWindow, c: &mut Core, item: &str) {
    let Some(s) = &c.session else { return };
    let view = c.t().library().open_book(s, item);
    let v = match view {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("opening {item}: {e}");
            return;
        }
    };
    let budget = reader::budget(ui.global::<Theme>().get_large_text());
    let g = ui.global::<BooksAdapter>();
    g.set_title(v.card.title.clone().into());
    g.set_free(v.card.free);
    g.set_show_marks(false);
    c.lib.book = Some(Reader::new(
        item,
        v.paras,
        v.card.free,
        budget,
        v.card.position.unwrap_or(0) as usize,
    ));
    show_page(ui, c);
    g.set_mode("reader".into());
}

fn show_page(ui: &AppWindow, c: &mut Core) {
    let Some(b) = &mut c.lib.book else { return };
    // Text size may have changed since the book opened.
    b.set_budget(reader::budget(ui.global::<Theme>().get_large_text()));
    let Some((start, end)) = b.span() else { return };
    let rows: Vec<ParaRow> = b
        .pieces()
        .into_iter()
        .map(|p| ParaRow {
            heading: p.heading,
            text: p.text.into(),
        })
        .collect();
    let (page, total) = b.position();
    let item = b.item.clone();
    let g = ui.global::<BooksAdapter>();
    let tr = ui.global::<Tr>();
    g.set_page(model(rows));
    g.set_page_label(tr.invoke_page_of(page as i32 + 1, total as i32));
    g.set_progress((page + 1) as f32 / total.max(1) as f32);
    g.set_has_prev(page > 0);
    g.set_has_next(page + 1 < total);
    let Some(s) = &c.session else { return };
    let marks = c.t().library().bookmarks(s, &item);
    let marks = marks
        .map_err(|e| tracing::error!("reading bookmarks: {e}"))
        .unwrap_or_default();
    g.set_marked(
        marks
            .iter()
            .any(|m| (start..end).contains(&(m.para as usize))),
    );
    let Some(b) = &c.lib.book else { return };
    g.set_marks(model(
        marks
            .iter()
            .map(|m| MarkRow {
                para: m.para as i32,
                excerpt: m.excerpt.clone().into(),
                page: tr.invoke_page_of(b.page_of(m.para as usize) as i32 + 1, total as i32),
            })
            .collect(),
    ));
    let saved = c.t().library().set_book_position(s, &item, start as u32);
    if let Err(e) = saved {
        tracing::error!("saving the reading position: {e}");
    }
}

fn turn(ui: &AppWindow, c: &mut Core, by: i64) {
    let Some(b) = &mut c.lib.book else { return };
    if b.turn(by) {
        show_page(ui, c);
    }
}

fn toggle_mark(ui: &AppWindow, c: &mut Core) {
    let Some(s) = &c.session else { return };
    let Some(item) = c.lib.book.as_ref().map(|b| b.item.clone()) else {
        return;
    };
    let marks = c.t().library().bookmarks(s, &item);
    let marks: Vec<u32> = marks
        .map_err(|e| tracing::error!("reading bookmarks: {e}"))
        .unwrap_or_default()
        .iter()
        .map(|m| m.para)
        .collect();
    // Toggle the bookmark the page holds, if any, else add one at its start.
    let Some((at, excerpt)) = c.lib.book.as_ref().and_then(|b| b.mark_target(&marks)) else {
        return;
    };
    let r = c.t().library().toggle_bookmark(s, &item, at, &excerpt);
    if let Err(e) = r {
        tracing::error!("bookmark: {e}");
    }
    show_page(ui, c);
}

fn go_mark(ui: &AppWindow, c: &mut Core, para: usize) {
    let Some(b) = &mut c.lib.book else { return };
    b.go_to(para);
    show_page(ui, c);
}

// ------------------------------------------------------------------ Music

pub(super) fn open_music(ui: &AppWindow, c: &mut Core, mode: &str) {
    c.lib.music_back.clear();
    ui.global::<MusicAdapter>()
        .set_query(SharedString::default());
    show_music(ui, c, mode);
    ui.global::<AppState>().set_page("music".into());
}

fn track_lines(c: &Core, tracks: &[TrackRow]) -> Vec<TrackLine> {
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

fn show_music(ui: &AppWindow, c: &mut Core, mode: &str) {
    let Some(s) = &c.session else { return };
    let g = ui.global::<MusicAdapter>();
    let tr = ui.global::<Tr>();
    g.set_notice(SharedString::default());
    g.set_heading(SharedString::default());
    let playlists = c.t().library().playlists(s).unwrap_or_default();
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
            let albums = c.t().library().albums(s).unwrap_or_default();
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
            let tracks = c.t().library().tracks(s).unwrap_or_default();
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
            let tracks = c.t().library().tracks(s).unwrap_or_default();
            set_view(ui, c, tracks);
        }
        "now" => update_player(ui, c),
        _ => {}
    }
    g.set_mode(mode.into());
}

fn set_view(ui: &AppWindow, c: &mut Core, tracks: Vec<TrackRow>) {
    ui.global::<MusicAdapter>()
        .set_tracks(model(track_lines(c, &tracks)));
    c.lib.view = tracks;
}

fn push_music(ui: &AppWindow, c: &mut Core) {
    let mode = ui.global::<MusicAdapter>().get_mode().to_string();
    if c.lib.music_back.last() != Some(&mode) {
        c.lib.music_back.push(mode);
    }
}

fn music_back(ui: &AppWindow, c: &mut Core) {
    let to = c.lib.music_back.pop().unwrap_or_else(|| "albums".into());
    let to = if matches!(to.as_str(), "album" | "playlist") {
        "albums".to_string()
    } else {
        to
    };
    show_music(ui, c, &to);
}

fn open_album(ui: &AppWindow, c: &mut Core, item: &str) {
    let Some(s) = &c.session else { return };
    let tracks = c.t().library().album_tracks(s, item).unwrap_or_default();
    push_music(ui, c);
    let title = tracks.first().map(|t| t.album.clone()).unwrap_or_default();
    set_view(ui, c, tracks);
    let g = ui.global::<MusicAdapter>();
    g.set_mode("album".into());
    g.set_heading(title.into());
    g.set_notice(SharedString::default());
}

fn open_artist(ui: &AppWindow, c: &mut Core, artist: &str) {
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

fn open_playlist(ui: &AppWindow, c: &mut Core, id: &str) {
    let Some(s) = &c.session else { return };
    let Ok(id) = id.parse::<i64>() else { return };
    let tracks = c.t().library().playlist_tracks(s, id).unwrap_or_default();
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

fn music_search(ui: &AppWindow, c: &mut Core, text: &str) {
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
            c.t().library().album_tracks(s, &r.item).unwrap_or_default()
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

fn play_track(ui: &AppWindow, c: &mut Core, item: &str) {
    let queue: Vec<TrackRow> = c.lib.view.iter().filter(|t| t.playable).cloned().collect();
    let Some(i) = queue.iter().position(|t| t.item == item) else {
        return;
    };
    c.lib.queue = queue;
    start(ui, c, i, 0, true);
    show_music(ui, c, "now");
}

fn play_all(ui: &AppWindow, c: &mut Core) {
    let queue: Vec<TrackRow> = c.lib.view.iter().filter(|t| t.playable).cloned().collect();
    if queue.is_empty() {
        return;
    }
    c.lib.queue = queue;
    start(ui, c, 0, 0, true);
    push_music(ui, c);
    show_music(ui, c, "now");
}

/// Load queue entry `i` at `at_ms`.
fn start(ui: &AppWindow, c: &mut Core, i: usize, at_ms: u64, play: bool) {
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
        Err(e) => ui.global::<MusicAdapter>().set_notice(e.to_string().into()),
    }
    update_player(ui, c);
}

/// The player's volume: the person's, never above the policy's cap.
pub(super) fn apply_volume(c: &mut Core, force: bool) {
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

fn toggle(ui: &AppWindow, c: &mut Core) {
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

fn skip(ui: &AppWindow, c: &mut Core, by: i64) {
    if c.lib.queue.is_empty() {
        return;
    }
    let i = (c.lib.index as i64 + by).clamp(0, c.lib.queue.len() as i64 - 1) as usize;
    start(ui, c, i, 0, true);
}

/// Refresh the player bar and Now playing; advance the queue at a
/// track's end. Called by the shell's one-second timer and after taps.
pub(super) fn update_player(ui: &AppWindow, c: &mut Core) {
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
    let saved = c.t().library().player_state(s).ok().flatten();
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
                    Err(e) => u.global::<MusicAdapter>().set_notice(e.to_string().into()),
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
