//! Reading content trees: education (courses, lessons, quizzes), books
//! (EPUB) and music (albums). One reader serves both sides:
//!
//! - the vendor's `pack` runs [`validate`] on the source directory and
//!   refuses to sign while any problem remains, naming each file;
//! - the tablet runs [`index`] on an installed bundle's directory to fill
//!   its catalogue. A bundle is signed and approved by then, but the
//!   tablet still trusts nothing it parses: a bad item is skipped with its
//!   problem logged, and never crashes the shell.
//!
//! The formats are specified in docs/content-format.md.

pub mod audio;
pub mod epub;

use std::path::Path;

use crate::domain::ContentType;
use crate::domain::content::{
    AlbumDoc, BooksDoc, CourseDoc, Lesson, MAX_JSON_BYTES, Problem, QuizDoc, parse_lesson,
};

/// Largest PNG accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 2048;

/// A course as the tablet indexes it.
#[derive(Clone, Debug)]
pub struct IndexedCourse {
    /// The directory of `course.json`, relative to the bundle ("" at the top).
    pub dir: String,
    pub doc: CourseDoc,
    /// Per lesson in course order: (file, title, Spanish title if any,
    /// searchable text in every language).
    pub lessons: Vec<IndexedLesson>,
    pub quizzes: usize,
}

#[derive(Clone, Debug)]
pub struct IndexedLesson {
    pub unit: usize,
    pub file: String,
    pub title: String,
    pub title_es: Option<String>,
    pub audio: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct IndexedBook {
    pub id: String,
    pub file: String,
    pub title: String,
    pub author: String,
    pub language: String,
    pub subject: String,
    pub free: bool,
    pub description: String,
    pub words: usize,
    pub paras: usize,
}

#[derive(Clone, Debug)]
pub struct IndexedAlbum {
    pub dir: String,
    pub id: String,
    pub title: String,
    pub artist: String,
    pub genre: String,
    pub year: Option<u16>,
    pub cover: Option<String>,
    pub tracks: Vec<IndexedTrack>,
}

#[derive(Clone, Debug)]
pub struct IndexedTrack {
    pub id: String,
    pub file: String,
    pub title: String,
    pub artist: String,
    pub number: u32,
    pub duration_ms: u64,
}

/// What a bundle's directory holds, and what was wrong with it.
#[derive(Clone, Debug, Default)]
pub struct Indexed {
    pub courses: Vec<IndexedCourse>,
    pub books: Vec<IndexedBook>,
    pub albums: Vec<IndexedAlbum>,
    pub problems: Vec<Problem>,
}

/// How thoroughly to look at media files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Decode every track and image completely (pack time).
    Full,
    /// Open each track's header only (tablet install: the vendor's pack
    /// and facility IT's approval came first).
    Headers,
}

fn problem(path: &str, message: impl Into<String>) -> Problem {
    Problem {
        path: path.to_string(),
        message: message.into(),
    }
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

fn read_json<T: serde::de::DeserializeOwned>(
    root: &Path,
    rel: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let path = root.join(rel);
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if len > MAX_JSON_BYTES as u64 {
        problems.push(problem(
            rel,
            format!("{len} bytes; at most {MAX_JSON_BYTES}"),
        ));
        return None;
    }
    match std::fs::read(&path) {
        Err(e) => {
            problems.push(problem(rel, format!("cannot be read: {e}")));
            None
        }
        Ok(b) => match serde_json::from_slice(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(problem(rel, format!("is not valid: {e}")));
                None
            }
        },
    }
}

/// Every file of the tree, relative, with `/` separators.
fn list(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<_> = rd.filter_map(|e| e.ok()).collect();
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let rel = join(prefix, &name);
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path(), &rel, out),
                Ok(t) if t.is_file() => out.push(rel),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(root, "", &mut out);
    out
}

/// Check a content tree against its format. Empty means it may be signed.
pub fn validate(root: &Path, content_type: ContentType) -> Vec<Problem> {
    let ix = index(root, content_type, Depth::Full);
    let mut problems = ix.problems;
    let empty = match content_type {
        ContentType::Education => ix.courses.is_empty(),
        ContentType::Books => ix.books.is_empty(),
        ContentType::Music => ix.albums.is_empty(),
    };
    if empty && problems.is_empty() {
        let (what, file) = match content_type {
            ContentType::Education => ("course", "course.json"),
            ContentType::Books => ("book", "books.json"),
            ContentType::Music => ("album", "album.json"),
        };
        let article = if content_type == ContentType::Education {
            "an"
        } else {
            "a"
        };
        problems.push(problem(
            ".",
            format!(
                "{article} {} bundle needs at least one {what}: add {file} (docs/content-format.md)",
                content_type.as_str()
            ),
        ));
    }
    problems
}

/// Read a content tree into catalogue entries.
pub fn index(root: &Path, content_type: ContentType, depth: Depth) -> Indexed {
    let files = list(root);
    let mut ix = Indexed::default();
    match content_type {
        ContentType::Education => {
            for f in files.iter().filter(|f| f.ends_with("course.json")) {
                let dir = f
                    .strip_suffix("course.json")
                    .unwrap_or("")
                    .trim_end_matches('/');
                if !dir.is_empty() && !f.ends_with("/course.json") {
                    continue;
                }
                if let Some(c) = course(root, dir, &files, depth, &mut ix.problems) {
                    ix.courses.push(c);
                }
            }
        }
        ContentType::Books => {
            if files.iter().any(|f| f == "books.json") {
                books(root, &files, &mut ix);
            }
        }
        ContentType::Music => {
            for f in files
                .iter()
                .filter(|f| *f == "album.json" || f.ends_with("/album.json"))
            {
                let dir = f
                    .strip_suffix("album.json")
                    .unwrap_or("")
                    .trim_end_matches('/');
                if let Some(a) = album(root, dir, &files, depth, &mut ix.problems) {
                    ix.albums.push(a);
                }
            }
        }
    }
    ix
}

fn exists(files: &[String], rel: &str) -> bool {
    files.iter().any(|f| f == rel)
}

fn course(
    root: &Path,
    dir: &str,
    files: &[String],
    depth: Depth,
    problems: &mut Vec<Problem>,
) -> Option<IndexedCourse> {
    let at = join(dir, "course.json");
    let doc: CourseDoc = read_json(root, &at, problems)?;
    let rules = doc.check();
    let before = problems.len();
    problems.extend(rules.into_iter().map(|m| problem(&at, m)));
    let mut lessons = Vec::new();
    let mut quizzes = 0;
    for (ui, unit) in doc.units.iter().enumerate() {
        for l in &unit.lessons {
            let rel = join(dir, l.file());
            if !exists(files, &rel) {
                problems.push(problem(
                    &at,
                    format!("lesson {} is not in the bundle", l.file()),
                ));
                continue;
            }
            let Some(lesson) = read_lesson(root, &rel, files, dir, problems) else {
                continue;
            };
            let es_rel = join(dir, &format!("es/{}", l.file()));
            let es = if exists(files, &es_rel) {
                read_lesson(root, &es_rel, files, dir, problems)
            } else {
                None
            };
            if let Some(a) = l.audio() {
                let arel = join(dir, a);
                if !exists(files, &arel) {
                    problems.push(problem(&at, format!("narration {a} is not in the bundle")));
                } else if depth == Depth::Full
                    && let Err(e) = audio::probe(&root.join(&arel))
                {
                    problems.push(problem(&arel, e.to_string()));
                }
            }
            let mut text = lesson.plain_text();
            if let Some(es) = &es {
                text.push_str(&es.plain_text());
            }
            lessons.push(IndexedLesson {
                unit: ui,
                file: l.file().to_string(),
                title: lesson.title.clone(),
                title_es: es.map(|e| e.title),
                audio: l.audio().map(str::to_string),
                text,
            });
        }
        if let Some(q) = &unit.quiz {
            let rel = join(dir, q);
            if !exists(files, &rel) {
                problems.push(problem(&at, format!("quiz {q} is not in the bundle")));
                continue;
            }
            if let Some(quiz) = read_json::<QuizDoc>(root, &rel, problems) {
                let p = quiz.check();
                if p.is_empty() {
                    quizzes += 1;
                }
                problems.extend(p.into_iter().map(|m| problem(&rel, m)));
            }
        }
    }
    (problems.len() == before).then_some(IndexedCourse {
        dir: dir.to_string(),
        doc,
        lessons,
        quizzes,
    })
}

/// Read and parse one lesson; check that its images are in the bundle
/// and decode.
pub fn read_lesson(
    root: &Path,
    rel: &str,
    files: &[String],
    course_dir: &str,
    problems: &mut Vec<Problem>,
) -> Option<Lesson> {
    let text = match std::fs::read(root.join(rel)) {
        Ok(b) if b.len() <= crate::domain::content::MAX_LESSON_BYTES => {
            match String::from_utf8(b) {
                Ok(t) => t,
                Err(_) => {
                    problems.push(problem(rel, "is not UTF-8 text"));
                    return None;
                }
            }
        }
        Ok(b) => {
            problems.push(problem(
                rel,
                format!("{} bytes; a lesson is at most 256 KiB", b.len()),
            ));
            return None;
        }
        Err(e) => {
            problems.push(problem(rel, format!("cannot be read: {e}")));
            return None;
        }
    };
    match parse_lesson(&text) {
        Ok(l) => {
            for img in l.images() {
                let irel = join(course_dir, img);
                if !exists(files, &irel) {
                    problems.push(problem(rel, format!("image {img} is not in the bundle")));
                } else if let Err(e) = png_size(&root.join(&irel)) {
                    problems.push(problem(&irel, e));
                }
            }
            Some(l)
        }
        Err(errs) => {
            problems.extend(errs.into_iter().map(|m| problem(rel, m)));
            None
        }
    }
}

/// A PNG's size, after checking it decodes and is not too large.
pub fn png_size(path: &Path) -> Result<(u32, u32), String> {
    decode_png(path).map(|(w, h, _)| (w, h))
}

/// Decode a PNG to RGBA8, refusing one larger than `MAX_IMAGE_SIDE`
/// before its pixels are allocated.
pub fn decode_png(path: &Path) -> Result<(u32, u32, Vec<u8>), String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut dec = png::Decoder::new(std::io::BufReader::new(f));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec
        .read_info()
        .map_err(|e| format!("is not a valid PNG: {e}"))?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!(
            "is {w}×{h} pixels; at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE}"
        ));
    }
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("is not a valid PNG: {e}"))?;
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|g| [*g, *g, *g, 255]).collect(),
        png::ColorType::Indexed => {
            return Err("is an indexed PNG the decoder did not expand".into());
        }
    };
    Ok((w, h, rgba))
}

fn books(root: &Path, files: &[String], ix: &mut Indexed) {
    let Some(doc) = read_json::<BooksDoc>(root, "books.json", &mut ix.problems) else {
        return;
    };
    let rules = doc.check();
    if !rules.is_empty() {
        ix.problems
            .extend(rules.into_iter().map(|m| problem("books.json", m)));
        return;
    }
    for b in &doc.books {
        if !exists(files, &b.file) {
            ix.problems.push(problem(
                "books.json",
                format!("book {} names {}, which is not in the bundle", b.id, b.file),
            ));
            continue;
        }
        match epub::read(&root.join(&b.file)) {
            Ok(book) => {
                let title = b.title.clone().or(book.title.clone());
                let Some(title) = title else {
                    ix.problems.push(problem(
                        &b.file,
                        "has no title: give one in books.json or the EPUB's metadata",
                    ));
                    continue;
                };
                ix.books.push(IndexedBook {
                    id: b.id.clone(),
                    file: b.file.clone(),
                    title,
                    author: b.author.clone().or(book.author.clone()).unwrap_or_default(),
                    language: book.language.clone().unwrap_or_else(|| "en".into()),
                    subject: b.subject.clone(),
                    free: b.free,
                    description: b.description.all(),
                    words: book.words(),
                    paras: book.paras.len(),
                });
            }
            Err(e) => ix.problems.push(problem(&b.file, e.to_string())),
        }
    }
}

fn album(
    root: &Path,
    dir: &str,
    files: &[String],
    depth: Depth,
    problems: &mut Vec<Problem>,
) -> Option<IndexedAlbum> {
    let at = join(dir, "album.json");
    let doc: AlbumDoc = read_json(root, &at, problems)?;
    let rules = doc.check();
    if !rules.is_empty() {
        problems.extend(rules.into_iter().map(|m| problem(&at, m)));
        return None;
    }
    let before = problems.len();
    if let Some(c) = &doc.cover {
        let rel = join(dir, c);
        if !exists(files, &rel) {
            problems.push(problem(&at, format!("cover {c} is not in the bundle")));
        } else if let Err(e) = png_size(&root.join(&rel)) {
            problems.push(problem(&rel, e));
        }
    }
    let mut tracks = Vec::new();
    let mut tag_album = None;
    let mut tag_artist = None;
    for (i, t) in doc.tracks.iter().enumerate() {
        let rel = join(dir, &t.file);
        if !exists(files, &rel) {
            problems.push(problem(
                &at,
                format!("track {} is not in the bundle", t.file),
            ));
            continue;
        }
        let path = root.join(&rel);
        let (tags, ms) = match depth {
            Depth::Full => match audio::probe(&path) {
                Ok(info) => {
                    let ms = info.duration_ms();
                    (info.tags, ms)
                }
                Err(e) => {
                    problems.push(problem(&rel, e.to_string()));
                    continue;
                }
            },
            Depth::Headers => match std::panic::catch_unwind(|| audio::Stream::open(&path)) {
                Ok(Ok(s)) => {
                    let ms = s.frames_hint.unwrap_or(0) * 1000 / u64::from(s.sample_rate.max(1));
                    (s.tags, ms)
                }
                Ok(Err(e)) => {
                    problems.push(problem(&rel, e.to_string()));
                    continue;
                }
                Err(_) => {
                    problems.push(problem(&rel, "the decoder failed on it"));
                    continue;
                }
            },
        };
        tag_album = tag_album.or(tags.album.clone());
        tag_artist = tag_artist.or(tags.artist.clone());
        let title = t.title.clone().or(tags.title.clone());
        let Some(title) = title else {
            problems.push(problem(
                &rel,
                "has no title: give one in album.json or the file's tags",
            ));
            continue;
        };
        tracks.push(IndexedTrack {
            id: t.id.clone(),
            file: t.file.clone(),
            title,
            artist: t
                .artist
                .clone()
                .or(tags.artist)
                .or(doc.artist.clone())
                .unwrap_or_default(),
            number: i as u32 + 1,
            duration_ms: ms,
        });
    }
    let title = doc.title.clone().or(tag_album);
    let Some(title) = title else {
        problems.push(problem(
            &at,
            "the album has no title: give one here or in the tags",
        ));
        return None;
    };
    (problems.len() == before || depth == Depth::Headers && !tracks.is_empty()).then(|| {
        IndexedAlbum {
            dir: dir.to_string(),
            id: doc.id.clone(),
            title,
            artist: doc.artist.clone().or(tag_artist).unwrap_or_default(),
            genre: doc.genre.clone(),
            year: doc.year,
            cover: doc.cover.as_ref().map(|c| join(dir, c)),
            tracks,
        }
    })
}
