//! Content formats: the demo trees validate, real audio decodes to the
//! expected length, and malformed files are refused with their path.

use std::path::{Path, PathBuf};

use berth::content::{self, Depth, audio, epub};
use berth::domain::ContentType;

fn demo(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/demo")
        .join(sub)
}

#[test]
fn demo_trees_validate() {
    for (dir, ct) in [
        ("course", ContentType::Education),
        ("books", ContentType::Books),
        ("music", ContentType::Music),
    ] {
        let p = content::validate(&demo(dir), ct);
        assert!(p.is_empty(), "{dir}: {p:?}");
    }
    let ix = content::index(&demo("course"), ContentType::Education, Depth::Headers);
    assert_eq!(ix.courses.len(), 1);
    let c = &ix.courses[0];
    assert_eq!(c.lessons.len(), 2);
    assert_eq!(c.lessons[0].title, "Sounds and letters");
    assert_eq!(c.lessons[0].title_es.as_deref(), Some("Sonidos y letras"));
    assert_eq!(c.lessons[0].audio.as_deref(), Some("audio/01-sounds.ogg"));
    assert_eq!(c.quizzes, 1);
    let ix = content::index(&demo("books"), ContentType::Books, Depth::Headers);
    assert_eq!(ix.books[0].title, "Aesop’s Fables");
    assert_eq!(ix.books[0].author, "Aesop");
    assert!(ix.books[0].free);
    let ix = content::index(&demo("music"), ContentType::Music, Depth::Full);
    let a = &ix.albums[0];
    assert_eq!(
        (a.title.as_str(), a.artist.as_str()),
        ("Open Air", "Berth Ensemble")
    );
    // Titles from the tags where album.json gives none.
    let titles: Vec<&str> = a.tracks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        vec!["Ode to Joy", "Twinkle, Twinkle", "Amazing Grace"]
    );
}

/// The files were made with sox from known note lengths; decoding must
/// give their exact frame counts (MP3 within one granule of encoder
/// padding, as gapless information is not in every MP3).
#[test]
fn real_audio_decodes_to_its_length() {
    let ogg = audio::probe(&demo("music/01-ode-to-joy.ogg")).unwrap();
    assert_eq!((ogg.sample_rate, ogg.channels), (44_100, 2));
    assert_eq!(ogg.frames, 592_704, "13.44 s at 44.1 kHz");
    assert_eq!(ogg.duration_ms(), 13_440);
    assert_eq!(ogg.tags.title.as_deref(), Some("Ode to Joy"));
    let flac = audio::probe(&demo("music/02-twinkle.flac")).unwrap();
    assert_eq!((flac.sample_rate, flac.channels), (16_000, 1));
    assert_eq!(flac.frames, 115_200, "7.2 s at 16 kHz");
    assert_eq!(flac.tags.artist.as_deref(), Some("Berth Ensemble"));
    let mp3 = audio::probe(&demo("music/03-amazing-grace.mp3")).unwrap();
    assert_eq!((mp3.sample_rate, mp3.channels), (22_050, 1));
    assert!(
        (264_600..=264_600 + 1152 * 2).contains(&mp3.frames),
        "12 s at 22.05 kHz, got {}",
        mp3.frames
    );
    // Decoded samples are real sound, not silence.
    let mut s = audio::Stream::open(&demo("music/01-ode-to-joy.ogg")).unwrap();
    let mut buf = Vec::new();
    let mut peak = 0f32;
    while s.next_chunk(&mut buf).unwrap() {
        peak = buf.iter().fold(peak, |m, x| m.max(x.abs()));
    }
    assert!(peak > 0.05 && peak <= 1.0, "peak {peak}");
}

#[test]
fn malformed_audio_and_epub_are_refused_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::copy(demo("music/album.json"), src.join("album.json")).unwrap();
    std::fs::copy(demo("music/cover.png"), src.join("cover.png")).unwrap();
    // A real OGG cut in half, a FLAC of random bytes, an MP3 that is text.
    let ogg = std::fs::read(demo("music/01-ode-to-joy.ogg")).unwrap();
    std::fs::write(src.join("01-ode-to-joy.ogg"), &ogg[..ogg.len() / 2]).unwrap();
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(src.join("02-twinkle.flac"), &noise).unwrap();
    std::fs::write(src.join("03-amazing-grace.mp3"), "not audio at all").unwrap();
    let p = content::validate(src, ContentType::Music);
    let text: Vec<String> = p.iter().map(|x| x.to_string()).collect();
    assert!(
        text.iter().any(|t| t.starts_with("02-twinkle.flac: ")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("03-amazing-grace.mp3: ")),
        "{text:?}"
    );
    // The half OGG still decodes, but it is cut (no end-of-stream page):
    // the tablet would list a length it never plays, so it is refused.
    assert!(
        text.iter()
            .any(|t| t.starts_with("01-ode-to-joy.ogg: ") && t.contains("the file is cut")),
        "{text:?}"
    );

    let b = tempfile::tempdir().unwrap();
    std::fs::copy(demo("books/books.json"), b.path().join("books.json")).unwrap();
    let epub_bytes = std::fs::read(demo("books/aesop-fables.epub")).unwrap();
    std::fs::write(
        b.path().join("aesop-fables.epub"),
        &epub_bytes[..epub_bytes.len() - 400],
    )
    .unwrap();
    let p = content::validate(b.path(), ContentType::Books);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "aesop-fables.epub");
    std::fs::write(
        b.path().join("aesop-fables.epub"),
        b"PK\x03\x04 this is no zip",
    )
    .unwrap();
    assert!(epub::read(&b.path().join("aesop-fables.epub")).is_err());
}

#[test]
fn course_problems_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("lessons")).unwrap();
    std::fs::write(
        src.join("course.json"),
        r#"{"id":"c","title":{"en":"C"},"units":[{"title":{"en":"U"},"lessons":["lessons/a.md","lessons/gone.md"],"quiz":"quiz.json"}]}"#,
    )
    .unwrap();
    std::fs::write(
        src.join("lessons/a.md"),
        "# A\n\nSee <b>this</b>\n\n![x](images/none.png)\n",
    )
    .unwrap();
    std::fs::write(src.join("quiz.json"), r#"{"pass_mark":3,"questions":[]}"#).unwrap();
    let p: Vec<String> = content::validate(src, ContentType::Education)
        .iter()
        .map(|x| x.to_string())
        .collect();
    let all = p.join("\n");
    assert!(
        all.contains("course.json: lesson lessons/gone.md is not in the bundle"),
        "{all}"
    );
    assert!(all.contains("lessons/a.md: line 3: HTML"), "{all}");
    assert!(
        all.contains("quiz.json: a quiz has 1–100 questions"),
        "{all}"
    );
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "x").unwrap();
    let p = content::validate(empty.path(), ContentType::Education);
    assert!(p[0].message.contains("course.json"), "{p:?}");
}
