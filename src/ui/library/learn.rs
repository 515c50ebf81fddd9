//! The Learn page: courses, lessons with narration, quizzes and results.
//! [`LearnController`] works over a [`LearnService`] and needs no window;
//! [`show`] is the one place its screens become adapter properties and
//! translated text.

use std::path::{Path, PathBuf};

use slint::{ComponentHandle, SharedString};

use super::{ContentNotice, Hit, model, png_image};
use crate::domain::content::{Block, CertificateDoc, QuizDoc, QuizResult, Span};
use crate::tablet::{Completed, CoreError, CourseCard, CourseView, LessonView};
use crate::ui::library::player::narration_id;
use crate::ui::quiz::{Next, QuizRun};
use crate::ui::{
    AppWindow, ChoiceRow, CourseCardRow, LearnAdapter, LessonBlock, ReviewRow, SearchRow, StepRow,
    Tr,
};

/// What the Learn page needs of the tablet, for the person signed in.
pub trait LearnService {
    fn courses(&self) -> Result<Vec<CourseCard>, CoreError>;
    fn subjects(&self) -> Result<Vec<String>, CoreError>;
    fn search(
        &self,
        text: &str,
        kinds: &[&str],
        subject: Option<&str>,
    ) -> Result<Vec<Hit>, CoreError>;
    fn course(&self, item: &str) -> Result<CourseView, CoreError>;
    fn lesson(&self, course: &str, index: usize) -> Result<LessonView, CoreError>;
    fn complete_lesson(&self, course: &str, index: usize) -> Result<Completed, CoreError>;
    fn quiz(&self, course: &str, unit: usize) -> Result<QuizDoc, CoreError>;
    fn submit_quiz(
        &self,
        course: &str,
        unit: usize,
        answers: &[Vec<usize>],
    ) -> Result<(QuizResult, Completed), CoreError>;
    /// The course a lesson belongs to, and its place there.
    fn lesson_place(&self, item: &str) -> Result<Option<(String, u32)>, CoreError>;
    /// The person's language, for quiz texts.
    fn language(&self) -> String;
}

/// What the search looks through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    All,
    Course,
    Lesson,
}

impl Kind {
    pub fn parse(s: &str) -> Kind {
        match s {
            "course" => Kind::Course,
            "lesson" => Kind::Lesson,
            _ => Kind::All,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::All => "all",
            Kind::Course => "course",
            Kind::Lesson => "lesson",
        }
    }
    fn kinds(self) -> &'static [&'static str] {
        match self {
            Kind::All => &["course", "lesson"],
            Kind::Course => &["course"],
            Kind::Lesson => &["lesson"],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CourseNote {
    Certified,
    NotStarted,
    Steps { done: u32, total: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct CourseLine {
    pub item: String,
    pub title: String,
    pub description: String,
    pub subject: String,
    pub progress: f32,
    pub note: CourseNote,
    pub certified: bool,
}

impl CourseLine {
    /// `listed`: on the course list, where no progress reads "not started".
    fn of(k: &CourseCard, listed: bool) -> CourseLine {
        let total = k.lessons + k.quizzes;
        let done = k.done + k.passed;
        CourseLine {
            item: k.item.clone(),
            title: k.title.clone(),
            description: k.description.clone(),
            subject: k.subject.clone(),
            progress: if total == 0 {
                0.0
            } else {
                done as f32 / total as f32
            },
            note: if k.certified {
                CourseNote::Certified
            } else if done == 0 && listed {
                CourseNote::NotStarted
            } else {
                CourseNote::Steps { done, total }
            },
            certified: k.certified,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CourseList {
    pub lines: Vec<CourseLine>,
    pub subjects: Vec<String>,
    pub subject: String,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Lesson,
    Quiz,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepLine {
    /// `lesson:N` or `quiz:N`.
    pub place: String,
    pub kind: StepKind,
    pub title: String,
    pub unit_title: String,
    pub done: bool,
    /// The best score, as the tablet wrote it.
    pub score: Option<String>,
    pub first_in_unit: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CoursePage {
    pub line: CourseLine,
    pub steps: Vec<StepLine>,
    /// What the course's main button does.
    pub action: CourseAction,
}

/// The course's main button: start it, carry on, or look back over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CourseAction {
    /// Nothing done yet: the first step.
    Start { place: String },
    /// The step to carry on from, and its title.
    Continue { place: String, title: String },
    /// Every step done: back to the first, to review.
    Review { place: String },
    /// A course with no steps.
    None,
}

impl CourseAction {
    pub fn of(steps: &[StepLine], resume: Option<&str>) -> CourseAction {
        let Some(first) = steps.first() else {
            return CourseAction::None;
        };
        match resume {
            None => CourseAction::Review {
                place: first.place.clone(),
            },
            Some(p) if !steps.iter().any(|st| st.done) && p == first.place => CourseAction::Start {
                place: first.place.clone(),
            },
            Some(p) => CourseAction::Continue {
                place: p.to_string(),
                title: steps
                    .iter()
                    .find(|st| st.place == p)
                    .map(|st| st.title.clone())
                    .unwrap_or_default(),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LessonPage {
    pub title: String,
    pub index: usize,
    pub count: usize,
    pub blocks: Vec<Block>,
    /// Where the lesson's images are.
    pub base: PathBuf,
    pub done: bool,
    pub has_narration: bool,
}

impl LessonPage {
    pub fn has_next(&self) -> bool {
        self.index + 1 < self.count
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionView {
    /// The quiz's step title (empty: the page says "Learn").
    pub title: String,
    pub prompt: String,
    pub at: usize,
    pub total: usize,
    pub multiple: bool,
    pub choices: Vec<(String, bool)>,
    pub last: bool,
    pub can_next: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewLine {
    pub prompt: String,
    pub right: bool,
    /// The right answers, joined.
    pub answer: String,
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultView {
    pub passed: bool,
    /// Right, asked, and needed to pass; `None` for a certificate alone.
    pub score: Option<(u32, u32, u32)>,
    pub review: Vec<ReviewLine>,
    /// The course whose certificate was just earned.
    pub certificate: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchLine {
    pub item: String,
    pub kind: String,
    pub title: String,
    pub subtitle: String,
}

/// What the page shows after a tap.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    List(CourseList),
    Course(CoursePage),
    Lesson(LessonPage),
    Quiz(QuestionView),
    Result(ResultView),
}

fn logged<T: Default>(what: &str, r: Result<T, CoreError>) -> T {
    super::logged(what, r)
}

/// The Learn page's controller: the filters, the course, lesson or quiz
/// open, and the steps of the course open (for "next" and titles).
#[derive(Default)]
pub struct LearnController {
    kind: Kind,
    subject: String,
    course: Option<String>,
    /// The open course's title, in the person's language.
    course_title: String,
    steps: Vec<StepLine>,
    lesson: Option<usize>,
    narration: Option<PathBuf>,
    /// The narration's length from its header, by file.
    narration_length: Option<(PathBuf, u64)>,
    quiz: Option<QuizRun>,
    /// What is on screen, for Back.
    on_lesson_or_quiz: bool,
    /// Why the last tap failed, for the person (the log has the detail).
    notice: ContentNotice,
}

impl LearnController {
    /// Open something, or say why not (and log it) and leave the page.
    fn opened<T>(&mut self, what: &str, r: Result<T, CoreError>) -> Option<T> {
        r.map_err(|e| {
            tracing::warn!("opening {what}: {e}");
            self.notice = ContentNotice::of_opening(&e);
        })
        .ok()
    }

    /// The notice from the last tap, cleared.
    pub fn take_notice(&mut self) -> ContentNotice {
        std::mem::replace(&mut self.notice, ContentNotice::None)
    }
    /// The course list.
    pub fn list(&mut self, svc: &impl LearnService) -> CourseList {
        self.course = None;
        self.lesson = None;
        self.quiz = None;
        self.on_lesson_or_quiz = false;
        let subject = self.subject.clone();
        CourseList {
            lines: logged("courses", svc.courses())
                .iter()
                .filter(|k| subject.is_empty() || k.subject == subject)
                .map(|k| CourseLine::of(k, true))
                .collect(),
            subjects: logged("subjects", svc.subjects()),
            subject,
            kind: self.kind,
        }
    }

    pub fn search(&self, svc: &impl LearnService, text: &str) -> Vec<SearchLine> {
        let subject = (!self.subject.is_empty()).then_some(self.subject.as_str());
        logged("search", svc.search(text, self.kind.kinds(), subject))
            .into_iter()
            .map(|h| SearchLine {
                item: h.item,
                kind: h.kind,
                title: h.title,
                subtitle: h.subtitle,
            })
            .collect()
    }

    pub fn pick_kind(&mut self, kind: Kind) {
        self.kind = kind;
    }
    pub fn pick_subject(&mut self, subject: &str) {
        self.subject = subject.to_string();
    }

    pub fn open_course(&mut self, svc: &impl LearnService, item: &str) -> Option<Screen> {
        let v = self.opened(item, svc.course(item))?;
        self.course = Some(item.to_string());
        self.course_title = v.card.title.clone();
        self.lesson = None;
        self.quiz = None;
        self.on_lesson_or_quiz = false;
        let mut last_unit = usize::MAX;
        self.steps = v
            .steps
            .iter()
            .map(|st| {
                let first = st.unit != last_unit;
                last_unit = st.unit;
                StepLine {
                    place: st.place.clone(),
                    kind: if st.place.starts_with("quiz:") {
                        StepKind::Quiz
                    } else {
                        StepKind::Lesson
                    },
                    title: st.title.clone(),
                    unit_title: st.unit_title.clone(),
                    done: st.done,
                    score: st.score.clone(),
                    first_in_unit: first,
                }
            })
            .collect();
        Some(Screen::Course(CoursePage {
            line: CourseLine::of(&v.card, false),
            action: CourseAction::of(&self.steps, v.resume.as_deref()),
            steps: self.steps.clone(),
        }))
    }

    /// The certified course's title in the person's language (the signed
    /// certificate keeps the catalogue's).
    fn title_of(&self, cert: CertificateDoc) -> String {
        if self.course_title.is_empty() {
            cert.course_title
        } else {
            self.course_title.clone()
        }
    }

    /// A step of the course open: `lesson:N` or `quiz:N`.
    pub fn open_step(&mut self, svc: &impl LearnService, place: &str) -> Option<Screen> {
        let course = self.course.clone()?;
        let (kind, n) = place.split_once(':')?;
        let n = n.parse::<usize>().ok()?;
        match kind {
            "lesson" => self.open_lesson(svc, &course, n),
            "quiz" => self.open_quiz(svc, &course, n),
            _ => None,
        }
    }

    fn open_lesson(
        &mut self,
        svc: &impl LearnService,
        course: &str,
        index: usize,
    ) -> Option<Screen> {
        let v = self.opened(
            &format!("lesson {index} of {course}"),
            svc.lesson(course, index),
        )?;
        self.lesson = Some(index);
        self.narration = v.audio.clone();
        self.on_lesson_or_quiz = true;
        Some(Screen::Lesson(LessonPage {
            title: v.title,
            index,
            count: v.count,
            blocks: v.lesson.blocks,
            base: v.base,
            done: v.done,
            has_narration: v.audio.is_some(),
        }))
    }

    fn open_quiz(&mut self, svc: &impl LearnService, course: &str, unit: usize) -> Option<Screen> {
        let doc = self.opened(
            &format!("the quiz of unit {unit} of {course}"),
            svc.quiz(course, unit),
        )?;
        self.quiz = Some(QuizRun::new(course, unit, doc));
        self.on_lesson_or_quiz = true;
        self.question(svc).map(Screen::Quiz)
    }

    /// Take the quiz open again from its first question.
    pub fn retry(&mut self, svc: &impl LearnService) -> Option<Screen> {
        let (course, unit) = self.quiz.as_ref().map(|q| (q.course.clone(), q.unit))?;
        self.open_quiz(svc, &course, unit)
    }

    fn question(&self, svc: &impl LearnService) -> Option<QuestionView> {
        let q = self.quiz.as_ref()?;
        let lang = svc.language();
        let (at, total) = q.position();
        let question = q.doc.questions.get(at)?;
        let place = format!("quiz:{}", q.unit);
        Some(QuestionView {
            title: self
                .steps
                .iter()
                .find(|st| st.place == place)
                .map(|st| st.title.clone())
                .unwrap_or_default(),
            prompt: question.prompt.get(&lang).into(),
            at,
            total,
            multiple: q.multiple(),
            choices: question
                .choices
                .iter()
                .enumerate()
                .map(|(i, ch)| (ch.get(&lang).to_string(), q.chosen(i)))
                .collect(),
            last: q.last(),
            can_next: q.can_next(),
        })
    }

    pub fn choose(&mut self, svc: &impl LearnService, choice: usize) -> Option<Screen> {
        self.quiz.as_mut()?.choose(choice);
        self.question(svc).map(Screen::Quiz)
    }

    /// Next question, or, after the last, the answers recorded and the
    /// result with a review of every question.
    pub fn next_question(&mut self, svc: &impl LearnService) -> Option<Screen> {
        let q = self.quiz.as_mut()?;
        let answers = match q.next() {
            Next::Stay => return None,
            Next::Question => return self.question(svc).map(Screen::Quiz),
            Next::Done(answers) => answers,
        };
        let (course, unit) = (q.course.clone(), q.unit);
        let submitted = svc.submit_quiz(&course, unit, &answers);
        let (result, done) = self.opened("recording the quiz", submitted)?;
        let lang = svc.language();
        let q = self.quiz.as_ref()?;
        Some(Screen::Result(ResultView {
            passed: result.passed,
            score: Some((result.correct, result.total, q.doc.pass_mark)),
            review: q
                .doc
                .questions
                .iter()
                .zip(&result.right)
                .map(|(qq, right)| ReviewLine {
                    prompt: qq.prompt.get(&lang).into(),
                    right: *right,
                    answer: qq
                        .answer
                        .iter()
                        .filter_map(|i| qq.choices.get(*i).map(|ch| ch.get(&lang).to_string()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    explanation: qq.explanation.get(&lang).into(),
                })
                .collect(),
            certificate: match done {
                Completed::Certified(cert) => Some(self.title_of(cert)),
                Completed::Step => None,
            },
        }))
    }

    /// The lesson read: recorded, then the certificate if it was the last
    /// step, else the next step (lesson or quiz), else the course.
    pub fn finish_lesson(&mut self, svc: &impl LearnService) -> Option<Screen> {
        let (course, index) = (self.course.clone()?, self.lesson?);
        let done = svc.complete_lesson(&course, index);
        if let Err(e) = &done {
            tracing::error!("recording the lesson: {e}");
            self.notice = ContentNotice::of_opening(e);
        }
        let page = self.open_course(svc, &course)?;
        if let Ok(Completed::Certified(cert)) = done {
            // Back from the certificate goes to the course.
            self.on_lesson_or_quiz = true;
            return Some(Screen::Result(ResultView {
                passed: true,
                score: None,
                review: Vec::new(),
                certificate: Some(self.title_of(cert)),
            }));
        }
        let here = format!("lesson:{index}");
        let next = self
            .steps
            .iter()
            .skip_while(|st| st.place != here)
            .nth(1)
            .map(|st| st.place.clone());
        match next {
            Some(place) => self.open_step(svc, &place).or(Some(page)),
            None => Some(page),
        }
    }

    /// Back: from a lesson, quiz or result to its course; from a course
    /// to the list.
    pub fn back(&mut self, svc: &impl LearnService) -> Screen {
        if let (true, Some(course)) = (self.on_lesson_or_quiz, self.course.clone())
            && let Some(page) = self.open_course(svc, &course)
        {
            return page;
        }
        Screen::List(self.list(svc))
    }

    /// A search result: a course opens; a lesson opens in its course.
    pub fn open_result(&mut self, svc: &impl LearnService, item: &str) -> Option<Screen> {
        if item.starts_with("course:") {
            return self.open_course(svc, item);
        }
        if !item.starts_with("lesson:") {
            return None;
        }
        let (course, pos) = logged("lesson place", svc.lesson_place(item))?;
        let page = self.open_course(svc, &course)?;
        self.open_lesson(svc, &course, pos as usize).or(Some(page))
    }

    /// The open lesson's narration: its player id and file.
    pub fn narration(&self) -> Option<(String, PathBuf)> {
        let id = narration_id(self.course.as_ref()?, self.lesson?);
        Some((id, self.narration.clone()?))
    }

    /// The open lesson's narration length, read from its header once.
    pub fn narration_length_ms(&mut self) -> u64 {
        let Some(path) = self.narration.clone() else {
            return 0;
        };
        match &self.narration_length {
            Some((p, ms)) if *p == path => *ms,
            _ => {
                let ms = crate::content::audio::header_length_ms(&path).unwrap_or(0);
                self.narration_length = Some((path, ms));
                ms
            }
        }
    }
}

/// Spans as Slint styled text (markdown with every marker in the words
/// escaped), and as plain text for the accessible label.
pub(super) fn styled(spans: &[Span]) -> (slint::StyledText, String) {
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

fn block_row(b: &Block, base: &Path) -> LessonBlock {
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
            (row.kind, row.marker) = match b {
                Block::Numbered { n, .. } => ("number".into(), format!("{n}.").into()),
                _ => ("bullet".into(), "•".into()),
            };
            row.text = st;
            row.plain = plain.into();
        }
        Block::Image { path, alt } => {
            row.kind = "image".into();
            row.plain = alt.clone().into();
            if let Some(img) = png_image(&base.join(path)) {
                let sz = img.size();
                row.ratio = sz.height as f32 / sz.width.max(1) as f32;
                row.image = img;
            }
        }
    }
    row
}

fn course_row(tr: &Tr<'_>, l: &CourseLine) -> CourseCardRow {
    CourseCardRow {
        item: l.item.clone().into(),
        title: l.title.clone().into(),
        description: l.description.clone().into(),
        subject: l.subject.clone().into(),
        progress: l.progress,
        note: match l.note {
            CourseNote::Certified => tr.invoke_certified(),
            CourseNote::NotStarted => tr.invoke_not_started(),
            CourseNote::Steps { done, total } => tr.invoke_steps_done(done as i32, total as i32),
        },
        certified: l.certified,
    }
}

pub(in crate::ui) fn show_results(ui: &AppWindow, lines: &[SearchLine]) {
    let tr = ui.global::<Tr>();
    ui.global::<LearnAdapter>().set_results(model(
        lines
            .iter()
            .map(|r| SearchRow {
                item: r.item.clone().into(),
                kind: r.kind.clone().into(),
                title: r.title.clone().into(),
                subtitle: if r.subtitle.is_empty() {
                    tr.invoke_lesson_kind(r.kind.clone().into())
                } else {
                    format!(
                        "{} · {}",
                        tr.invoke_lesson_kind(r.kind.clone().into()),
                        r.subtitle
                    )
                    .into()
                },
            })
            .collect(),
    ));
}

/// The page's adapter properties from a screen.
pub(in crate::ui) fn show(ui: &AppWindow, screen: &Screen) {
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    let mode = match screen {
        Screen::List(l) => {
            g.set_courses(model(l.lines.iter().map(|c| course_row(&tr, c)).collect()));
            g.set_subjects(model(l.subjects.iter().map(SharedString::from).collect()));
            g.set_subject(l.subject.as_str().into());
            g.set_kind(l.kind.as_str().into());
            "list"
        }
        Screen::Course(c) => {
            g.set_course(course_row(&tr, &c.line));
            g.set_steps(model(
                c.steps
                    .iter()
                    .map(|st| StepRow {
                        place: st.place.clone().into(),
                        title: st.title.clone().into(),
                        unit_title: st.unit_title.clone().into(),
                        kind: match st.kind {
                            StepKind::Lesson => "lesson".into(),
                            StepKind::Quiz => "quiz".into(),
                        },
                        done: st.done,
                        note: match &st.score {
                            Some(sc) => tr.invoke_best_score(sc.into()),
                            None => SharedString::default(),
                        },
                        first_in_unit: st.first_in_unit,
                    })
                    .collect(),
            ));
            let (kind, place, title) = match &c.action {
                CourseAction::Start { place } => ("start", place.as_str(), ""),
                CourseAction::Continue { place, title } => {
                    ("continue", place.as_str(), title.as_str())
                }
                CourseAction::Review { place } => ("review", place.as_str(), ""),
                CourseAction::None => ("", "", ""),
            };
            g.set_resume_kind(kind.into());
            g.set_resume_place(place.into());
            g.set_resume_title(title.into());
            "course"
        }
        Screen::Lesson(l) => {
            g.set_lesson_title(l.title.clone().into());
            g.set_lesson_position(tr.invoke_lesson_of(l.index as i32 + 1, l.count as i32));
            g.set_blocks(model(
                l.blocks.iter().map(|b| block_row(b, &l.base)).collect(),
            ));
            g.set_lesson_done(l.done);
            g.set_has_next(l.has_next());
            g.set_has_audio(l.has_narration);
            "lesson"
        }
        Screen::Quiz(q) => {
            g.set_quiz_title(if q.title.is_empty() {
                tr.invoke_feature("learn".into())
            } else {
                q.title.clone().into()
            });
            g.set_question(q.prompt.clone().into());
            g.set_question_position(tr.invoke_question_of(q.at as i32 + 1, q.total as i32));
            g.set_multiple(q.multiple);
            g.set_choices(model(
                q.choices
                    .iter()
                    .map(|(text, chosen)| ChoiceRow {
                        text: text.clone().into(),
                        chosen: *chosen,
                    })
                    .collect(),
            ));
            g.set_last_question(q.last);
            g.set_can_next(q.can_next);
            "quiz"
        }
        Screen::Result(r) => {
            g.set_passed(r.passed);
            g.set_score(match r.score {
                Some((right, total, pass)) => {
                    tr.invoke_score(right as i32, total as i32, pass as i32)
                }
                None => SharedString::default(),
            });
            g.set_review(model(
                r.review
                    .iter()
                    .map(|l| ReviewRow {
                        prompt: l.prompt.clone().into(),
                        right: l.right,
                        answer: l.answer.clone().into(),
                        explanation: l.explanation.clone().into(),
                    })
                    .collect(),
            ));
            g.set_certificate_note(match &r.certificate {
                Some(course) => tr.invoke_certificate_earned(course.into()),
                None => SharedString::default(),
            });
            "result"
        }
    };
    g.set_mode(mode.into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content::{CertificateDoc, Lesson};
    use crate::tablet::CourseStep;
    use std::cell::RefCell;

    fn quiz_doc() -> QuizDoc {
        serde_json::from_str(
            r#"{"pass_mark": 1, "questions": [
                {"kind": "single", "prompt": {"en": "Two?", "es": "¿Dos?"},
                 "choices": [{"en": "one", "es": "uno"}, {"en": "two", "es": "dos"}],
                 "answer": [1], "explanation": {"en": "2", "es": "2"}}]}"#,
        )
        .unwrap()
    }

    /// One course: two lessons then a quiz. Finishing all three certifies.
    #[derive(Default)]
    struct Svc {
        done: RefCell<Vec<String>>,
        submitted: RefCell<Vec<Vec<Vec<usize>>>>,
    }
    impl Svc {
        fn certified(&self) -> bool {
            self.done.borrow().len() == 3
        }
        fn finish(&self, place: &str) -> Completed {
            if !self.done.borrow().iter().any(|d| d == place) {
                self.done.borrow_mut().push(place.into());
            }
            if self.certified() {
                Completed::Certified(CertificateDoc {
                    facility: crate::domain::FacilityId::parse("demo-facility").unwrap(),
                    id: "c1".into(),
                    person: crate::domain::people::PersonId::parse("A12345").unwrap(),
                    person_name: "María".into(),
                    course: "course:1".into(),
                    // Signed in the catalogue's own language; the person
                    // reads Spanish.
                    course_title: "Reading Basics".into(),
                    completed: chrono::Utc::now(),
                    score_percent: 100,
                    tablet: crate::domain::PublicKey([0; 32]),
                })
            } else {
                Completed::Step
            }
        }
    }
    fn card(done: u32) -> CourseCard {
        CourseCard {
            item: "course:1".into(),
            title: "Lectura".into(),
            description: "Leer".into(),
            subject: "literacy".into(),
            lessons: 2,
            done,
            quizzes: 1,
            passed: 0,
            certified: false,
        }
    }
    impl LearnService for Svc {
        fn courses(&self) -> Result<Vec<CourseCard>, CoreError> {
            let mut other = card(0);
            other.item = "course:2".into();
            other.subject = "math".into();
            Ok(vec![card(self.done.borrow().len() as u32), other])
        }
        fn subjects(&self) -> Result<Vec<String>, CoreError> {
            Ok(vec!["literacy".into(), "math".into()])
        }
        fn search(
            &self,
            _: &str,
            kinds: &[&str],
            subject: Option<&str>,
        ) -> Result<Vec<Hit>, CoreError> {
            let mut hits = vec![Hit::new("lesson:1b", "lesson", "r", "Dos")];
            if kinds.contains(&"course") && subject != Some("math") {
                hits.push(Hit::new("course:1", "course", "r", "Lectura"));
            }
            Ok(hits)
        }
        fn course(&self, item: &str) -> Result<CourseView, CoreError> {
            if item != "course:1" {
                return Err(CoreError::Refused(crate::tablet::Refusal::Content(
                    crate::tablet::ContentRefusal::NotHere(item.into()),
                )));
            }
            let step = |place: &str, unit: usize, title: &str| CourseStep {
                place: place.into(),
                unit,
                unit_title: format!("Unit {unit}"),
                title: title.into(),
                done: self.done.borrow().iter().any(|d| d == place),
                score: None,
                narrated: false,
            };
            Ok(CourseView {
                card: card(self.done.borrow().len() as u32),
                steps: vec![
                    step("lesson:0", 0, "Uno"),
                    step("lesson:1", 0, "Dos"),
                    step("quiz:0", 0, "Prueba"),
                ],
                // As the tablet does: the first step not done.
                resume: ["lesson:0", "lesson:1", "quiz:0"]
                    .into_iter()
                    .find(|p| !self.done.borrow().iter().any(|d| d == p))
                    .map(String::from),
            })
        }
        fn lesson(&self, _: &str, index: usize) -> Result<LessonView, CoreError> {
            Ok(LessonView {
                title: format!("Lesson {index}"),
                lesson: Lesson {
                    title: String::new(),
                    blocks: vec![],
                },
                base: PathBuf::from("/content"),
                audio: (index == 0).then(|| PathBuf::from("/content/n.ogg")),
                index,
                count: 2,
                done: false,
            })
        }
        fn complete_lesson(&self, _: &str, index: usize) -> Result<Completed, CoreError> {
            Ok(self.finish(&format!("lesson:{index}")))
        }
        fn quiz(&self, _: &str, _: usize) -> Result<QuizDoc, CoreError> {
            Ok(quiz_doc())
        }
        fn submit_quiz(
            &self,
            _: &str,
            _: usize,
            answers: &[Vec<usize>],
        ) -> Result<(QuizResult, Completed), CoreError> {
            self.submitted.borrow_mut().push(answers.to_vec());
            let r = quiz_doc().score(answers);
            let done = if r.passed {
                self.finish("quiz:0")
            } else {
                Completed::Step
            };
            Ok((r, done))
        }
        fn lesson_place(&self, item: &str) -> Result<Option<(String, u32)>, CoreError> {
            Ok((item == "lesson:1b").then(|| ("course:1".to_string(), 1)))
        }
        fn language(&self) -> String {
            "es".into()
        }
    }

    #[test]
    fn the_list_filters_by_subject_and_says_not_started() {
        let s = Svc::default();
        let mut l = LearnController::default();
        let all = l.list(&s);
        assert_eq!(all.lines.len(), 2);
        assert_eq!(all.lines[0].note, CourseNote::NotStarted);
        l.pick_subject("math");
        let math = l.list(&s);
        assert_eq!(math.lines.len(), 1);
        assert_eq!(math.subject, "math");
        l.pick_kind(Kind::Lesson);
        assert_eq!(l.search(&s, "dos").len(), 1, "lessons only");
    }

    #[test]
    fn a_course_marks_the_first_step_of_each_unit_and_where_to_resume() {
        let s = Svc::default();
        let mut l = LearnController::default();
        let Some(Screen::Course(c)) = l.open_course(&s, "course:1") else {
            panic!("the course opens")
        };
        let firsts: Vec<bool> = c.steps.iter().map(|s| s.first_in_unit).collect();
        assert_eq!(firsts, [true, false, false]);
        assert_eq!(c.steps[2].kind, StepKind::Quiz);
        assert_eq!(c.line.note, CourseNote::Steps { done: 0, total: 3 });
        assert_eq!(l.take_notice(), ContentNotice::None);
        assert!(
            l.open_course(&s, "course:9").is_none(),
            "refused: nothing changes"
        );
        assert_eq!(
            l.take_notice(),
            ContentNotice::CannotOpen,
            "the person is told"
        );
        assert_eq!(l.take_notice(), ContentNotice::None, "once");
    }

    #[test]
    fn the_course_button_starts_continues_or_reviews() {
        let step = |place: &str, done: bool| StepLine {
            place: place.into(),
            kind: StepKind::Lesson,
            title: format!("T {place}"),
            unit_title: String::new(),
            done,
            score: None,
            first_in_unit: false,
        };
        let fresh = [step("lesson:0", false), step("lesson:1", false)];
        assert_eq!(
            CourseAction::of(&fresh, Some("lesson:0")),
            CourseAction::Start {
                place: "lesson:0".into()
            }
        );
        let half = [step("lesson:0", true), step("lesson:1", false)];
        assert_eq!(
            CourseAction::of(&half, Some("lesson:1")),
            CourseAction::Continue {
                place: "lesson:1".into(),
                title: "T lesson:1".into()
            }
        );
        let done = [step("lesson:0", true), step("lesson:1", true)];
        assert_eq!(
            CourseAction::of(&done, None),
            CourseAction::Review {
                place: "lesson:0".into()
            }
        );
        assert_eq!(CourseAction::of(&[], None), CourseAction::None);
    }

    #[test]
    fn finishing_lessons_leads_to_the_quiz_and_a_pass_certifies() {
        let s = Svc::default();
        let mut l = LearnController::default();
        l.open_course(&s, "course:1").unwrap();
        let Some(Screen::Lesson(first)) = l.open_step(&s, "lesson:0") else {
            panic!("lesson 0")
        };
        assert!(first.has_next() && first.has_narration);
        assert_eq!(l.narration().unwrap().0, narration_id("course:1", 0));
        let Some(Screen::Lesson(second)) = l.finish_lesson(&s) else {
            panic!("next is lesson 1")
        };
        assert_eq!(second.index, 1);
        assert!(l.narration().is_none(), "lesson 1 has no narration");
        let Some(Screen::Quiz(q)) = l.finish_lesson(&s) else {
            panic!("next is the quiz")
        };
        assert_eq!((q.title.as_str(), q.prompt.as_str()), ("Prueba", "¿Dos?"));
        assert!(!q.can_next);
        assert!(l.next_question(&s).is_none(), "nothing chosen: stay");
        l.choose(&s, 0);
        let Some(Screen::Quiz(q)) = l.choose(&s, 1) else {
            panic!()
        };
        assert_eq!(q.choices, [("uno".into(), false), ("dos".into(), true)]);
        let Some(Screen::Result(r)) = l.next_question(&s) else {
            panic!("the result")
        };
        assert_eq!(*s.submitted.borrow(), vec![vec![vec![1]]]);
        assert!(r.passed);
        assert_eq!(r.score, Some((1, 1, 1)));
        assert_eq!(r.review[0].answer, "dos");
        assert_eq!(
            r.certificate.as_deref(),
            Some("Lectura"),
            "the course's title in the person's language, not the signed one"
        );
        assert!(matches!(l.back(&s), Screen::Course(_)));
        assert!(matches!(l.back(&s), Screen::List(_)));
    }

    #[test]
    fn a_failed_quiz_can_be_retried_from_the_start() {
        let s = Svc::default();
        let mut l = LearnController::default();
        l.open_course(&s, "course:1").unwrap();
        l.open_step(&s, "quiz:0").unwrap();
        l.choose(&s, 0);
        let Some(Screen::Result(r)) = l.next_question(&s) else {
            panic!()
        };
        assert!(!r.passed && r.certificate.is_none());
        assert!(!r.review[0].right);
        let Some(Screen::Quiz(q)) = l.retry(&s) else {
            panic!()
        };
        assert_eq!(q.at, 0);
        assert!(q.choices.iter().all(|c| !c.1), "a fresh attempt");
    }

    #[test]
    fn a_lesson_found_by_search_opens_in_its_course() {
        let s = Svc::default();
        let mut l = LearnController::default();
        let Some(Screen::Lesson(p)) = l.open_result(&s, "lesson:1b") else {
            panic!()
        };
        assert_eq!(p.index, 1);
        assert!(matches!(l.back(&s), Screen::Course(_)));
        assert!(l.open_result(&s, "track:1").is_none());
    }
}
