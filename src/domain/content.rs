//! Education, books and music: the content formats as types, their rules,
//! quiz scoring, the lesson text format and book pagination. Pure: the
//! files are read by `content`, stored by `store`, shown by `ui`.
//!
//! docs/content-format.md is the vendor-facing description of the same
//! rules; every rule here is named there.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::people::PersonId;
use super::{FacilityId, PublicKey};

/// Caps that keep a hostile or careless bundle small on the tablet.
pub const MAX_ID: usize = 64;
pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_UNITS: usize = 100;
pub const MAX_LESSONS_PER_UNIT: usize = 100;
pub const MAX_QUESTIONS: usize = 100;
pub const MAX_CHOICES: usize = 8;
pub const MAX_LESSON_BYTES: usize = 256 * 1024;
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
pub const MAX_BOOKS: usize = 1000;
pub const MAX_TRACKS: usize = 1000;
/// Languages a `Localized` text may carry.
pub const LANGUAGES: [&str; 2] = ["en", "es"];

/// A problem found in content, with the file it is in (and the line, for
/// lesson text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A text in each language the content offers; `en` is the fallback.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Localized(pub BTreeMap<String, String>);

impl Localized {
    pub fn plain(s: &str) -> Self {
        Localized(BTreeMap::from([("en".to_string(), s.to_string())]))
    }

    /// The text in `lang`, else English, else any.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get("en"))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Every language's text, for the search index.
    pub fn all(&self) -> String {
        self.0.values().cloned().collect::<Vec<_>>().join(" ")
    }

    fn check(&self, what: &str, max: usize, required: bool, out: &mut Vec<String>) {
        if required && self.0.values().all(|v| v.trim().is_empty()) {
            out.push(format!("{what} is missing; give at least an \"en\" text"));
        }
        for (lang, text) in &self.0 {
            if !LANGUAGES.contains(&lang.as_str()) {
                out.push(format!(
                    "{what} has language {lang:?}; use one of {}",
                    LANGUAGES.join(", ")
                ));
            }
            if text.len() > max {
                out.push(format!(
                    "{what} ({lang}) is {} bytes; at most {max}",
                    text.len()
                ));
            }
            if text.chars().any(|c| c.is_control() && c != '\n') {
                out.push(format!("{what} ({lang}) holds control characters"));
            }
        }
    }
}

fn id_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn check_id(what: &str, id: &str, out: &mut Vec<String>) {
    if !id_ok(id) {
        out.push(format!(
            "{what} {id:?} must be 1–{MAX_ID} of a-z 0-9 - _ . starting with a letter or digit"
        ));
    }
}

/// A relative path inside the bundle, as the content documents name them.
fn check_ref(what: &str, path: &str, exts: &[&str], out: &mut Vec<String>) {
    let ok = super::SafePath::parse(path).is_ok();
    if !ok {
        out.push(format!(
            "{what} {path:?} is not a relative path inside the bundle"
        ));
        return;
    }
    let lower = path.to_ascii_lowercase();
    if !exts.iter().any(|e| lower.ends_with(e)) {
        out.push(format!("{what} {path:?} must end in {}", exts.join(" or ")));
    }
}

// ---------------------------------------------------------------- courses

/// `course.json`: one course of an education bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseDoc {
    pub id: String,
    pub title: Localized,
    #[serde(default)]
    pub description: Localized,
    /// A subject for filters: `reading`, `math`, `trade`, …
    #[serde(default = "general")]
    pub subject: String,
    pub units: Vec<UnitDoc>,
}

fn general() -> String {
    "general".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitDoc {
    pub title: Localized,
    pub lessons: Vec<LessonRef>,
    /// A quiz at the end of the unit.
    #[serde(default)]
    pub quiz: Option<String>,
}

/// A lesson: its Markdown file, and narration if it has any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LessonRef {
    File(String),
    WithAudio {
        file: String,
        #[serde(default)]
        audio: Option<String>,
    },
}

impl LessonRef {
    pub fn file(&self) -> &str {
        match self {
            LessonRef::File(f) | LessonRef::WithAudio { file: f, .. } => f,
        }
    }
    pub fn audio(&self) -> Option<&str> {
        match self {
            LessonRef::File(_) => None,
            LessonRef::WithAudio { audio, .. } => audio.as_deref(),
        }
    }
}

pub const AUDIO_EXTS: [&str; 4] = [".ogg", ".oga", ".flac", ".mp3"];
pub const IMAGE_EXTS: [&str; 1] = [".png"];

impl CourseDoc {
    /// Rules that need no other file. File references are checked by the
    /// caller against the bundle's file list.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        check_id("course id", &self.id, &mut out);
        self.title.check("title", MAX_TITLE, true, &mut out);
        self.description
            .check("description", MAX_DESCRIPTION, false, &mut out);
        check_id("subject", &self.subject, &mut out);
        if self.units.is_empty() || self.units.len() > MAX_UNITS {
            out.push(format!("a course has 1–{MAX_UNITS} units"));
        }
        for (i, u) in self.units.iter().enumerate() {
            let n = i + 1;
            u.title
                .check(&format!("unit {n} title"), MAX_TITLE, true, &mut out);
            if u.lessons.is_empty() || u.lessons.len() > MAX_LESSONS_PER_UNIT {
                out.push(format!("unit {n} has 1–{MAX_LESSONS_PER_UNIT} lessons"));
            }
            for l in &u.lessons {
                check_ref(&format!("unit {n} lesson"), l.file(), &[".md"], &mut out);
                if let Some(a) = l.audio() {
                    check_ref(&format!("unit {n} narration"), a, &AUDIO_EXTS, &mut out);
                }
            }
            if let Some(q) = &u.quiz {
                check_ref(&format!("unit {n} quiz"), q, &[".json"], &mut out);
            }
        }
        out
    }

    /// Every lesson in order, with its unit index.
    pub fn lessons(&self) -> Vec<(usize, &LessonRef)> {
        self.units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| u.lessons.iter().map(move |l| (i, l)))
            .collect()
    }
}

// ---------------------------------------------------------------- quizzes

/// A quiz file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizDoc {
    /// Questions that must be right to pass.
    pub pass_mark: u32,
    pub questions: Vec<Question>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionKind {
    /// Exactly one choice is right.
    Single,
    /// One or more choices are right; all of them, and only them, must be
    /// chosen.
    Multiple,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub kind: QuestionKind,
    pub prompt: Localized,
    pub choices: Vec<Localized>,
    /// Indexes of the right choices, from 0.
    pub answer: Vec<usize>,
    #[serde(default)]
    pub explanation: Localized,
}

impl QuizDoc {
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            out.push(format!("a quiz has 1–{MAX_QUESTIONS} questions"));
        }
        if self.pass_mark == 0 || self.pass_mark as usize > self.questions.len() {
            out.push(format!(
                "pass_mark {} must be from 1 to the number of questions ({})",
                self.pass_mark,
                self.questions.len()
            ));
        }
        for (i, q) in self.questions.iter().enumerate() {
            let n = i + 1;
            q.prompt.check(
                &format!("question {n} prompt"),
                MAX_TITLE * 5,
                true,
                &mut out,
            );
            q.explanation.check(
                &format!("question {n} explanation"),
                MAX_DESCRIPTION,
                false,
                &mut out,
            );
            if q.choices.len() < 2 || q.choices.len() > MAX_CHOICES {
                out.push(format!("question {n} has 2–{MAX_CHOICES} choices"));
            }
            for (j, c) in q.choices.iter().enumerate() {
                c.check(
                    &format!("question {n} choice {}", j + 1),
                    MAX_TITLE,
                    true,
                    &mut out,
                );
            }
            let mut a = q.answer.clone();
            a.sort_unstable();
            a.dedup();
            if a.len() != q.answer.len() {
                out.push(format!("question {n} lists an answer twice"));
            }
            if let Some(bad) = a.iter().find(|x| **x >= q.choices.len()) {
                out.push(format!(
                    "question {n} answer {bad} is not a choice (choices count from 0)"
                ));
            }
            match q.kind {
                QuestionKind::Single if a.len() != 1 => out.push(format!(
                    "question {n} is single choice: give exactly one answer"
                )),
                QuestionKind::Multiple if a.is_empty() => {
                    out.push(format!("question {n} needs at least one answer"))
                }
                _ => {}
            }
        }
        out
    }

    /// Score a set of answers (one list of chosen indexes per question).
    pub fn score(&self, answers: &[Vec<usize>]) -> QuizResult {
        let right: Vec<bool> = self
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let mut given = answers.get(i).cloned().unwrap_or_default();
                given.sort_unstable();
                given.dedup();
                let mut want = q.answer.clone();
                want.sort_unstable();
                given == want
            })
            .collect();
        let correct = right.iter().filter(|r| **r).count() as u32;
        QuizResult {
            correct,
            total: self.questions.len() as u32,
            passed: correct >= self.pass_mark,
            right,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizResult {
    pub correct: u32,
    pub total: u32,
    pub passed: bool,
    /// Per question, whether it was right (for the review).
    pub right: Vec<bool>,
}

impl QuizResult {
    pub fn percent(&self) -> u32 {
        (self.correct * 100).checked_div(self.total).unwrap_or(0)
    }
}

// ---------------------------------------------------------------- lessons

/// A span of lesson text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Heading { level: u8, text: String },
    Paragraph(Vec<Span>),
    Bullet(Vec<Span>),
    Numbered { n: u32, spans: Vec<Span> },
    Image { path: String, alt: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lesson {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Lesson {
    /// The lesson's words, for the search index.
    pub fn plain_text(&self) -> String {
        let mut s = String::new();
        for b in &self.blocks {
            match b {
                Block::Heading { text, .. } => s.push_str(text),
                Block::Paragraph(sp) | Block::Bullet(sp) | Block::Numbered { spans: sp, .. } => {
                    for x in sp {
                        s.push_str(&x.text);
                    }
                }
                Block::Image { alt, .. } => s.push_str(alt),
            }
            s.push('\n');
        }
        s
    }

    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Image { path, .. } => Some(path.as_str()),
            _ => None,
        })
    }
}

/// Parse the lesson text format: a Markdown subset. Headings (`#`, `##`,
/// `###`), paragraphs, `-`/`*` and `1.` lists, `**bold**` and `*italic*`,
/// and images on a line of their own (`![alt](images/x.png)`). Anything
/// that would reach outside the tablet or run — links, raw HTML, code — is
/// refused with its line number.
pub fn parse_lesson(text: &str) -> Result<Lesson, Vec<String>> {
    let mut errors = Vec::new();
    let mut blocks = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut para_line = 1;
    if text.len() > MAX_LESSON_BYTES {
        return Err(vec![format!(
            "the lesson is {} bytes; at most {MAX_LESSON_BYTES}",
            text.len()
        )]);
    }
    let flush =
        |para: &mut Vec<String>, blocks: &mut Vec<Block>, errors: &mut Vec<String>, line: usize| {
            if !para.is_empty() {
                let joined = para.join(" ");
                match spans(&joined) {
                    Ok(s) => blocks.push(Block::Paragraph(s)),
                    Err(e) => errors.push(format!("line {line}: {e}")),
                }
                para.clear();
            }
        };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.chars().any(|c| c.is_control() && c != '\t') {
            errors.push(format!("line {n}: control characters"));
            continue;
        }
        if t.is_empty() {
            flush(&mut para, &mut blocks, &mut errors, para_line);
            continue;
        }
        if t.starts_with('<') {
            errors.push(format!("line {n}: HTML is not part of the lesson format"));
            continue;
        }
        if t.starts_with("```") || line.starts_with("    ") && para.is_empty() {
            errors.push(format!(
                "line {n}: code blocks are not part of the lesson format"
            ));
            continue;
        }
        if let Some(level) = heading_level(t) {
            flush(&mut para, &mut blocks, &mut errors, para_line);
            let text = t[level as usize..].trim().to_string();
            if text.is_empty() {
                errors.push(format!("line {n}: an empty heading"));
            } else {
                blocks.push(Block::Heading { level, text });
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("![") {
            flush(&mut para, &mut blocks, &mut errors, para_line);
            match rest.split_once("](") {
                Some((alt, tail)) if tail.ends_with(')') => {
                    let path = tail[..tail.len() - 1].trim().to_string();
                    let mut e = Vec::new();
                    check_ref("image", &path, &IMAGE_EXTS, &mut e);
                    errors.extend(e.into_iter().map(|m| format!("line {n}: {m}")));
                    if alt.trim().is_empty() {
                        errors.push(format!(
                            "line {n}: an image needs a description between [ ] for people who cannot see it"
                        ));
                    }
                    blocks.push(Block::Image {
                        path,
                        alt: alt.trim().to_string(),
                    });
                }
                _ => errors.push(format!(
                    "line {n}: write an image alone on its line as ![description](images/name.png)"
                )),
            }
            continue;
        }
        let bullet = t.strip_prefix("- ").or_else(|| t.strip_prefix("* "));
        let numbered = t.split_once(". ").filter(|(d, _)| {
            !d.is_empty() && d.len() <= 3 && d.chars().all(|c| c.is_ascii_digit())
        });
        if bullet.is_some() || numbered.is_some() {
            flush(&mut para, &mut blocks, &mut errors, para_line);
            let body = bullet.unwrap_or_else(|| numbered.map(|x| x.1).unwrap_or(""));
            match spans(body.trim()) {
                Ok(s) => blocks.push(match numbered {
                    Some((d, _)) if bullet.is_none() => Block::Numbered {
                        n: d.parse().unwrap_or(1),
                        spans: s,
                    },
                    _ => Block::Bullet(s),
                }),
                Err(e) => errors.push(format!("line {n}: {e}")),
            }
            continue;
        }
        if para.is_empty() {
            para_line = n;
        }
        para.push(t.to_string());
    }
    flush(&mut para, &mut blocks, &mut errors, para_line);
    if !errors.is_empty() {
        return Err(errors);
    }
    let title = match blocks.first() {
        Some(Block::Heading { level: 1, text }) => text.clone(),
        _ => {
            return Err(vec![
                "line 1: a lesson starts with its title as \"# Title\"".into(),
            ]);
        }
    };
    blocks.remove(0);
    Ok(Lesson { title, blocks })
}

fn heading_level(t: &str) -> Option<u8> {
    let hashes = t.chars().take_while(|c| *c == '#').count();
    (1..=3)
        .contains(&hashes)
        .then_some(hashes as u8)
        .filter(|_| t[hashes..].starts_with(' '))
}

/// Inline emphasis: `**bold**`, `*italic*` and `_italic_`. Links are refused.
fn spans(s: &str) -> Result<Vec<Span>, String> {
    if s.contains("](") || s.contains("http://") || s.contains("https://") {
        return Err("links are not part of the lesson format".into());
    }
    let b = s.as_bytes();
    if b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
    {
        return Err("HTML is not part of the lesson format".into());
    }
    if s.contains('`') {
        return Err("code is not part of the lesson format".into());
    }
    let mut out: Vec<Span> = Vec::new();
    let (mut bold, mut italic) = (false, false);
    let mut cur = String::new();
    let mut it = s.chars().peekable();
    let push = |out: &mut Vec<Span>, cur: &mut String, bold: bool, italic: bool| {
        if !cur.is_empty() {
            out.push(Span {
                text: std::mem::take(cur),
                bold,
                italic,
            });
        }
    };
    while let Some(c) = it.next() {
        match c {
            '*' if it.peek() == Some(&'*') => {
                it.next();
                push(&mut out, &mut cur, bold, italic);
                bold = !bold;
            }
            '*' | '_' => {
                push(&mut out, &mut cur, bold, italic);
                italic = !italic;
            }
            '\\' => {
                if let Some(n) = it.next() {
                    cur.push(n);
                }
            }
            c => cur.push(c),
        }
    }
    push(&mut out, &mut cur, bold, italic);
    if bold || italic {
        return Err("an emphasis (* or **) is opened and never closed".into());
    }
    Ok(out)
}

// ---------------------------------------------------------------- books

/// `books.json`: the books of a book bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BooksDoc {
    pub books: Vec<BookEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookEntry {
    pub id: String,
    pub file: String,
    /// A public-domain or otherwise free work: reading it is never metered.
    #[serde(default)]
    pub free: bool,
    #[serde(default = "general")]
    pub subject: String,
    /// When absent, the EPUB's own title and author are used.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub description: Localized,
}

impl BooksDoc {
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.books.is_empty() || self.books.len() > MAX_BOOKS {
            out.push(format!("a book bundle has 1–{MAX_BOOKS} books"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for b in &self.books {
            check_id("book id", &b.id, &mut out);
            if !ids.insert(&b.id) {
                out.push(format!("book id {:?} is used twice", b.id));
            }
            check_ref(&format!("book {}", b.id), &b.file, &[".epub"], &mut out);
            check_id("subject", &b.subject, &mut out);
            for (what, v) in [("title", &b.title), ("author", &b.author)] {
                if v.as_ref()
                    .is_some_and(|t| t.len() > MAX_TITLE || t.trim().is_empty())
                {
                    out.push(format!("book {} {what} must be 1–{MAX_TITLE} bytes", b.id));
                }
            }
            b.description.check(
                &format!("book {} description", b.id),
                MAX_DESCRIPTION,
                false,
                &mut out,
            );
        }
        out
    }
}

/// A paragraph of a reflowed book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Para {
    pub heading: bool,
    pub text: String,
}

/// One screen of a book: paragraphs `[start, end)`, where the first may
/// begin at character `start_char` (a long paragraph split across pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub start_char: usize,
    pub end: usize,
    pub end_char: usize,
}

/// Split a book into pages of about `budget` characters, breaking between
/// paragraphs and, for a long one, between words. Positions are paragraph
/// indexes, so a bookmark survives a change of text size.
pub fn paginate(paras: &[Para], budget: usize) -> Vec<Page> {
    let budget = budget.max(200);
    let mut pages = Vec::new();
    let (mut p, mut c) = (0usize, 0usize);
    while p < paras.len() {
        let start = (p, c);
        let mut used = 0usize;
        loop {
            if p >= paras.len() {
                break;
            }
            let chars: Vec<char> = paras[p].text.chars().collect();
            // A heading costs more room than its letters.
            let weight = if paras[p].heading { 3 } else { 1 };
            let left = chars.len().saturating_sub(c) * weight + 40;
            if used + left <= budget {
                used += left;
                p += 1;
                c = 0;
                continue;
            }
            if used > budget / 2 || paras[p].heading {
                break;
            }
            // Split this paragraph at the last space that fits.
            let room = (budget - used) / weight;
            let mut cut = (c + room).min(chars.len());
            while cut > c + 1 && !chars[cut - 1].is_whitespace() {
                cut -= 1;
            }
            if cut <= c + 1 {
                cut = (c + room).min(chars.len());
            }
            c = cut;
            if c >= chars.len() {
                p += 1;
                c = 0;
            }
            break;
        }
        if (p, c) == start {
            // A heading larger than a page: take it whole.
            p += 1;
            c = 0;
        }
        pages.push(Page {
            start: start.0,
            start_char: start.1,
            end: p,
            end_char: c,
        });
    }
    pages
}

/// The page that shows paragraph `para`.
pub fn page_of(pages: &[Page], para: usize) -> usize {
    pages
        .iter()
        .rposition(|pg| pg.start < para || (pg.start == para && pg.start_char == 0))
        .unwrap_or(0)
}

// ---------------------------------------------------------------- music

/// `album.json`: one album of a music bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbumDoc {
    /// The album's vendor-neutral id (its UPC or EAN where it has one).
    /// Entitlements name it, so a purchase survives a change of vendor.
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub artist: Option<String>,
    #[serde(default = "general")]
    pub genre: String,
    #[serde(default)]
    pub year: Option<u16>,
    /// A PNG, square, at most 1024×1024.
    #[serde(default)]
    pub cover: Option<String>,
    pub tracks: Vec<TrackEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackEntry {
    /// The recording's vendor-neutral id (its ISRC where it has one).
    pub id: String,
    pub file: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub artist: Option<String>,
}

impl AlbumDoc {
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        check_id("album id", &self.id, &mut out);
        check_id("genre", &self.genre, &mut out);
        if let Some(c) = &self.cover {
            check_ref("cover", c, &IMAGE_EXTS, &mut out);
        }
        if self.tracks.is_empty() || self.tracks.len() > MAX_TRACKS {
            out.push(format!("an album has 1–{MAX_TRACKS} tracks"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for (i, t) in self.tracks.iter().enumerate() {
            check_id(&format!("track {} id", i + 1), &t.id, &mut out);
            if !ids.insert(&t.id) {
                out.push(format!("track id {:?} is used twice", t.id));
            }
            check_ref(&format!("track {}", i + 1), &t.file, &AUDIO_EXTS, &mut out);
        }
        for (what, v) in [("title", &self.title), ("artist", &self.artist)] {
            if v.as_ref().is_some_and(|t| t.len() > MAX_TITLE) {
                out.push(format!("album {what} is longer than {MAX_TITLE} bytes"));
            }
        }
        out
    }
}

// ---------------------------------------------------------------- entitlements

/// What a receipt entitles: an album (every track on it) or one track.
/// Both are vendor-neutral ids from the music formats.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum EntitledItem {
    Album(String),
    Track(String),
}

impl EntitledItem {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, id) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: write album:ID or track:ID"))?;
        if !id_ok(id) {
            return Err(format!("{s:?}: the id must be 1–{MAX_ID} of a-z 0-9 - _ ."));
        }
        match kind {
            "album" => Ok(EntitledItem::Album(id.into())),
            "track" => Ok(EntitledItem::Track(id.into())),
            _ => Err(format!("{s:?}: write album:ID or track:ID")),
        }
    }
}

impl std::fmt::Display for EntitledItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntitledItem::Album(id) => write!(f, "album:{id}"),
            EntitledItem::Track(id) => write!(f, "track:{id}"),
        }
    }
}

/// A receipt, signed by the facility's approval role: this person may play
/// this item, on any tablet, from any vendor's bundle that carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitlementDoc {
    pub facility: FacilityId,
    pub id: String,
    pub person: PersonId,
    pub item: EntitledItem,
    pub issued: DateTime<Utc>,
}

// ---------------------------------------------------------------- certificates

/// A course certificate, signed by the device key of the tablet where the
/// course was finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateDoc {
    pub facility: FacilityId,
    pub id: String,
    pub person: PersonId,
    pub person_name: String,
    pub course: String,
    pub course_title: String,
    pub completed: DateTime<Utc>,
    /// Questions right over all the course's quizzes, in percent.
    pub score_percent: u32,
    pub tablet: PublicKey,
}

/// The short code printed on a certificate's page: the first 48 bits of
/// the SHA-256 of its signed envelope, in three groups of four. Anyone with
/// the file checks it with `berth-facility certificate verify FILE --code`.
pub fn certificate_code(envelope_hash: &crate::domain::Sha256) -> String {
    let hex: String = envelope_hash.0[..6]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12])
}

/// A code as a person may type it: any case, with or without dashes.
pub fn same_certificate_code(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_code_is_short_and_forgiving() {
        let h = crate::domain::Sha256([0xab; 32]);
        assert_eq!(certificate_code(&h), "ABAB-ABAB-ABAB");
        assert!(same_certificate_code("abab abab-abab", "ABAB-ABAB-ABAB"));
        assert!(!same_certificate_code("ABAB-ABAB-ABAC", "ABAB-ABAB-ABAB"));
        assert!(!same_certificate_code("--", ""));
    }

    fn quiz() -> QuizDoc {
        serde_json::from_str(
            r#"{"pass_mark":2,"questions":[
            {"kind":"single","prompt":{"en":"a"},"choices":[{"en":"x"},{"en":"y"}],"answer":[1]},
            {"kind":"multiple","prompt":{"en":"b"},"choices":[{"en":"x"},{"en":"y"},{"en":"z"}],"answer":[0,2]},
            {"kind":"single","prompt":{"en":"c"},"choices":[{"en":"x"},{"en":"y"}],"answer":[0]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn multiple_choice_needs_exactly_the_right_set() {
        let q = quiz();
        assert!(q.check().is_empty(), "{:?}", q.check());
        let r = q.score(&[vec![1], vec![2, 0], vec![1]]);
        assert_eq!((r.correct, r.passed), (2, true));
        assert_eq!(r.right, vec![true, true, false]);
        let r = q.score(&[vec![1], vec![0], vec![1]]);
        assert_eq!((r.correct, r.passed, r.percent()), (1, false, 33));
        let r = q.score(&[vec![1], vec![0, 1, 2], vec![0]]);
        assert_eq!(r.right, vec![true, false, true]);
    }

    #[test]
    fn quiz_rules_name_each_problem() {
        let mut q = quiz();
        q.pass_mark = 4;
        q.questions[0].answer = vec![0, 1];
        q.questions[2].answer = vec![5];
        let p = q.check().join("\n");
        assert!(p.contains("pass_mark 4"), "{p}");
        assert!(p.contains("question 1 is single choice"), "{p}");
        assert!(p.contains("question 3 answer 5"), "{p}");
    }

    #[test]
    fn lesson_subset_parses_and_refuses_links_and_html() {
        let l = parse_lesson(
            "# Sounds\n\nEvery **word** is *made*\nof sounds.\n\n- one\n2. two\n\n![A map](images/map.png)\n",
        )
        .unwrap();
        assert_eq!(l.title, "Sounds");
        assert_eq!(l.blocks.len(), 4);
        match &l.blocks[0] {
            Block::Paragraph(s) => {
                assert_eq!(
                    s[1],
                    Span {
                        text: "word".into(),
                        bold: true,
                        italic: false
                    }
                );
                assert_eq!(s[3].text, "made");
                assert!(s[3].italic);
                assert_eq!(s[4].text, " of sounds.");
            }
            b => panic!("{b:?}"),
        }
        assert_eq!(l.images().collect::<Vec<_>>(), vec!["images/map.png"]);
        let e = parse_lesson("# T\n\nsee [here](http://x)\n<script>\n![](../x.png)\n**open\n")
            .unwrap_err()
            .join("\n");
        assert!(e.contains("line 3: links"), "{e}");
        assert!(e.contains("line 4: HTML"), "{e}");
        assert!(e.contains("line 5:"), "{e}");
        assert!(e.contains("never closed"), "{e}");
        assert!(parse_lesson("no title\n").is_err());
    }

    #[test]
    fn pages_cover_every_character_once() {
        let paras: Vec<Para> = (0..40)
            .map(|i| Para {
                heading: i % 10 == 0,
                text: format!("{i} ").repeat(if i == 7 { 900 } else { 30 + i * 7 }),
            })
            .collect();
        for budget in [300, 900, 1500] {
            let pages = paginate(&paras, budget);
            assert_eq!((pages[0].start, pages[0].start_char), (0, 0));
            for w in pages.windows(2) {
                assert_eq!((w[0].end, w[0].end_char), (w[1].start, w[1].start_char));
            }
            let last = pages.last().unwrap();
            assert_eq!((last.end, last.end_char), (paras.len(), 0));
            assert_eq!(page_of(&pages, 0), 0);
            let p = page_of(&pages, 20);
            assert!(pages[p].start <= 20 && (pages[p].end > 20 || pages[p].end_char > 0));
        }
        assert!(paginate(&paras, 300).len() > paginate(&paras, 1500).len());
    }

    #[test]
    fn entitled_items_parse() {
        assert_eq!(
            EntitledItem::parse("album:0123456789012").unwrap(),
            EntitledItem::Album("0123456789012".into())
        );
        assert!(EntitledItem::parse("album:../x").is_err());
        assert!(EntitledItem::parse("song:x").is_err());
        assert_eq!(
            EntitledItem::parse("track:usrc1").unwrap().to_string(),
            "track:usrc1"
        );
    }
}
