//! EPUB books, read with the `epub` crate and reflowed into paragraphs for
//! the tablet's screen: no CSS, no fixed layout, the person's text size.

use std::io::Cursor;
use std::path::Path;

use xml::reader::{EventReader, ParserConfig, XmlEvent};

use crate::domain::content::Para;

/// An EPUB file is at most this big, and unpacks to at most this much.
pub const MAX_EPUB_BYTES: u64 = 64 << 20;
pub const MAX_UNPACKED_BYTES: u64 = 256 << 20;
pub const MAX_ENTRIES: usize = 10_000;
/// Paragraphs per book (a long novel has about 10,000).
pub const MAX_PARAS: usize = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum EpubError {
    #[error("cannot read the EPUB file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a readable EPUB: {0}")]
    Format(String),
    #[error("{0}")]
    Limit(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Book {
    pub title: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    pub paras: Vec<Para>,
}

impl Book {
    pub fn words(&self) -> usize {
        self.paras
            .iter()
            .map(|p| p.text.split_whitespace().count())
            .sum()
    }
}

/// Read and reflow an EPUB. The archive's directory is checked against
/// the caps before anything is unpacked, and the reader runs behind
/// `catch_unwind`: a hostile file is an error, never a crash.
pub fn read(path: &Path) -> Result<Book, EpubError> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_EPUB_BYTES {
        return Err(EpubError::Limit(format!(
            "the EPUB is {len} bytes; at most {MAX_EPUB_BYTES}"
        )));
    }
    let bytes = std::fs::read(path)?;
    check_archive(&bytes)?;
    std::panic::catch_unwind(move || reflow(bytes))
        .unwrap_or_else(|_| Err(EpubError::Format("the EPUB reader failed on it".into())))
}

fn check_archive(bytes: &[u8]) -> Result<(), EpubError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| EpubError::Format(format!("not a ZIP archive ({e})")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(EpubError::Limit(format!(
            "the EPUB holds {} files; at most {MAX_ENTRIES}",
            zip.len()
        )));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| EpubError::Format(format!("entry {i}: {e}")))?;
        total = total.saturating_add(f.size());
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(EpubError::Limit(format!(
            "the EPUB unpacks to {total} bytes; at most {MAX_UNPACKED_BYTES}"
        )));
    }
    Ok(())
}

fn reflow(bytes: Vec<u8>) -> Result<Book, EpubError> {
    let mut doc = epub::doc::EpubDoc::from_reader(Cursor::new(bytes))
        .map_err(|e| EpubError::Format(e.to_string()))?;
    let meta = |k: &str| {
        doc.mdata(k)
            .map(|m| clean(&m.value))
            .filter(|v| !v.is_empty())
    };
    let (title, author, language) = (meta("title"), meta("creator"), meta("language"));
    let chapters = doc.get_num_chapters();
    if chapters == 0 {
        return Err(EpubError::Format("its spine lists no chapters".into()));
    }
    let mut paras = Vec::new();
    for i in 0..chapters {
        doc.set_current_chapter(i);
        let Some((xhtml, mime)) = doc.get_current_str() else {
            return Err(EpubError::Format(format!(
                "chapter {} is missing from the archive",
                i + 1
            )));
        };
        if !mime.contains("html") {
            continue;
        }
        xhtml_paras(&xhtml, &mut paras)
            .map_err(|e| EpubError::Format(format!("chapter {}: {e}", i + 1)))?;
        if paras.len() > MAX_PARAS {
            return Err(EpubError::Limit(format!(
                "the book has more than {MAX_PARAS} paragraphs"
            )));
        }
    }
    if paras.is_empty() {
        return Err(EpubError::Format("it holds no text".into()));
    }
    Ok(Book {
        title,
        author,
        language,
        paras,
    })
}

fn clean(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

const BLOCKS: [&str; 14] = [
    "p",
    "div",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "dt",
    "dd",
    "section",
];

/// Paragraphs of one XHTML document: text of block elements, headings
/// marked, scripts and styles dropped. Entities beyond XML's own are not
/// declared in XHTML5, so the parser is told to accept HTML's.
fn xhtml_paras(xhtml: &str, out: &mut Vec<Para>) -> Result<(), String> {
    let cfg = ParserConfig::new()
        .trim_whitespace(false)
        .replace_unknown_entity_references(true)
        .add_entity("nbsp", "\u{a0}");
    let reader = EventReader::new_with_config(xhtml.as_bytes(), cfg);
    let mut cur = String::new();
    let mut heading = false;
    let mut skip = 0usize;
    let mut in_body = false;
    let flush = |cur: &mut String, heading: bool, out: &mut Vec<Para>| {
        let t = clean(cur);
        if !t.is_empty() {
            out.push(Para { heading, text: t });
        }
        cur.clear();
    };
    for ev in reader {
        match ev.map_err(|e| e.to_string())? {
            XmlEvent::StartElement { name, .. } => {
                let n = name.local_name.to_ascii_lowercase();
                match n.as_str() {
                    "body" => in_body = true,
                    "script" | "style" | "head" => skip += 1,
                    "br" => cur.push(' '),
                    n if BLOCKS.contains(&n) => {
                        flush(&mut cur, heading, out);
                        heading = n.starts_with('h') && n.len() == 2;
                    }
                    _ => {}
                }
            }
            XmlEvent::EndElement { name } => {
                let n = name.local_name.to_ascii_lowercase();
                match n.as_str() {
                    "script" | "style" | "head" => skip = skip.saturating_sub(1),
                    n if BLOCKS.contains(&n) => {
                        flush(&mut cur, heading, out);
                        heading = false;
                    }
                    _ => {}
                }
            }
            XmlEvent::Characters(t) | XmlEvent::CData(t) | XmlEvent::Whitespace(t)
                if skip == 0 && in_body =>
            {
                cur.push_str(&t);
            }
            _ => {}
        }
    }
    flush(&mut cur, heading, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xhtml_becomes_paragraphs() {
        let mut out = Vec::new();
        xhtml_paras(
            r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title><style>p{}</style></head>
            <body><h1>The Fox</h1><p>A  fox saw&nbsp;some <i>grapes</i>.</p><div><p>Árbol &amp; más</p></div><script>evil()</script></body></html>"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                Para {
                    heading: true,
                    text: "The Fox".into()
                },
                Para {
                    heading: false,
                    text: "A fox saw some grapes.".into()
                },
                Para {
                    heading: false,
                    text: "Árbol & más".into()
                },
            ]
        );
        assert!(xhtml_paras("<html><body><p>open", &mut Vec::new()).is_err());
    }
}
