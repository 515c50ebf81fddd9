//! The book reader's state: pages at the current text size, the page on
//! show, what it holds and where a bookmark goes. Pure: the Books page
//! shows it, and its tests need no window or tablet.

use crate::domain::content::{Page, Para, page_of, paginate};

/// Characters on a page of a book, at each text size, before the page's
/// box is known.
pub const PAGE_CHARS: usize = 900;
pub const PAGE_CHARS_LARGE: usize = 520;

pub fn budget(large_text: bool) -> usize {
    if large_text {
        PAGE_CHARS_LARGE
    } else {
        PAGE_CHARS
    }
}

/// Characters that fit a page box of `width` × `height` logical pixels at
/// `font` pixels, with room to spare: DejaVu Sans averages 0.55 em a
/// character in running text, a line is 1.17 em, and word wrapping and
/// paragraph breaks waste about a quarter. The layout test checks that no
/// line is cut at any text size, with the bookmark panel open or not.
pub fn budget_for_box(width: f32, height: f32, font: f32) -> usize {
    if !(width > 0.0 && height > 0.0 && font > 0.0) {
        return PAGE_CHARS_LARGE;
    }
    let per_line = (width / (0.58 * font)).floor();
    let lines = (height / (1.17 * font)).floor() - 1.0;
    ((per_line * lines * 0.72) as usize).clamp(120, 4000)
}

/// How far into the book a page starting at paragraph `start` is, from 0
/// to 1: the same figure in the book list and in the reader.
pub fn fraction(start: usize, paras: usize) -> f32 {
    if paras == 0 {
        return 0.0;
    }
    ((start as f32 + 1.0) / paras as f32).min(1.0)
}

/// A paragraph, or the part of one, on a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub heading: bool,
    pub text: String,
}

pub struct Reader {
    pub item: String,
    pub free: bool,
    paras: Vec<Para>,
    pages: Vec<Page>,
    page: usize,
    budget: usize,
}

impl Reader {
    /// Open at the page holding paragraph `at` (where the person was).
    pub fn new(item: &str, paras: Vec<Para>, free: bool, budget: usize, at: usize) -> Self {
        let pages = paginate(&paras, budget);
        let page = page_of(&pages, at);
        Reader {
            item: item.to_string(),
            free,
            paras,
            pages,
            page,
            budget,
        }
    }

    /// The text size changed: paginate again, staying at the same place.
    pub fn set_budget(&mut self, budget: usize) {
        if self.budget != budget {
            let at = self.pages.get(self.page).map(|p| p.start).unwrap_or(0);
            self.pages = paginate(&self.paras, budget);
            self.page = page_of(&self.pages, at);
            self.budget = budget;
        }
    }

    /// How far into the book the page on show is (see [`fraction`]).
    pub fn fraction(&self) -> f32 {
        fraction(self.span().map_or(0, |s| s.0), self.paras.len())
    }

    /// The page on show (from 0) and how many there are.
    pub fn position(&self) -> (usize, usize) {
        (self.page, self.pages.len())
    }

    /// The page a paragraph is on.
    pub fn page_of(&self, para: usize) -> usize {
        page_of(&self.pages, para)
    }

    /// Paragraphs `[start, end)` the page holds (at least one).
    pub fn span(&self) -> Option<(usize, usize)> {
        let pg = self.pages.get(self.page)?;
        Some((pg.start, pg.end.max(pg.start + 1)))
    }

    /// Turn by `by` pages; false (and nothing moves) past either end.
    pub fn turn(&mut self, by: i64) -> bool {
        let next = self.page as i64 + by;
        if next < 0 || next as usize >= self.pages.len() {
            return false;
        }
        self.page = next as usize;
        true
    }

    /// Go to the page holding paragraph `para`.
    pub fn go_to(&mut self, para: usize) {
        self.page = page_of(&self.pages, para);
    }

    /// The words on the page, with a long paragraph cut where the page
    /// cuts it.
    pub fn pieces(&self) -> Vec<Piece> {
        let Some(pg) = self.pages.get(self.page).copied() else {
            return Vec::new();
        };
        let slice = |p: &Para, from: usize, to: Option<usize>| {
            let chars: Vec<char> = p.text.chars().collect();
            let to = to.unwrap_or(chars.len()).min(chars.len());
            Piece {
                heading: p.heading,
                text: chars[from.min(to)..to].iter().collect(),
            }
        };
        let mut out = Vec::new();
        for i in pg.start..pg.end.min(self.paras.len()).max(pg.start) {
            let from = if i == pg.start { pg.start_char } else { 0 };
            out.push(slice(&self.paras[i], from, None));
        }
        if pg.end_char > 0 && pg.end < self.paras.len() {
            let p = &self.paras[pg.end];
            if pg.end != pg.start {
                out.push(slice(p, 0, Some(pg.end_char)));
            } else {
                out = vec![slice(p, pg.start_char, Some(pg.end_char))];
            }
        }
        out
    }

    /// Where a bookmark of this page goes: the one already on it, if any
    /// (so a tap removes it), else the page's first paragraph, with the
    /// first words as its excerpt.
    pub fn mark_target(&self, marks: &[u32]) -> Option<(u32, String)> {
        let pg = self.pages.get(self.page)?;
        let (start, end) = self.span()?;
        let excerpt = self
            .paras
            .get(start)
            .map(|p| p.text.chars().skip(pg.start_char).take(80).collect())
            .unwrap_or_default();
        let at = marks
            .iter()
            .copied()
            .find(|m| (start..end).contains(&(*m as usize)))
            .unwrap_or(start as u32);
        Some((at, excerpt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> Vec<Para> {
        let mut v = vec![Para {
            heading: true,
            text: "La zorra y las uvas".into(),
        }];
        for i in 0..12 {
            v.push(Para {
                heading: false,
                text: format!("Párrafo {i}: ").repeat(20),
            });
        }
        v
    }

    #[test]
    fn pages_turn_within_the_book_and_every_word_shows_once() {
        let mut r = Reader::new("b", book(), true, PAGE_CHARS, 0);
        let (_, total) = r.position();
        assert!(total > 2, "{total}");
        assert!(!r.turn(-1), "no page before the first");
        let mut all = String::new();
        loop {
            for p in r.pieces() {
                all.push_str(&p.text);
            }
            if !r.turn(1) {
                break;
            }
        }
        let whole: String = book().iter().map(|p| p.text.as_str()).collect();
        assert_eq!(all, whole);
        assert_eq!(r.position().0, total - 1);
    }

    #[test]
    fn large_text_paginates_again_at_the_same_place() {
        let mut r = Reader::new("b", book(), false, PAGE_CHARS, 8);
        let (start, _) = r.span().unwrap();
        let before = r.position().1;
        r.set_budget(PAGE_CHARS_LARGE);
        assert!(r.position().1 > before, "smaller pages, more of them");
        let (s2, e2) = r.span().unwrap();
        assert!(
            s2 <= start && start < e2.max(s2 + 1),
            "{start} in {s2}..{e2}"
        );
    }

    #[test]
    fn a_smaller_box_or_a_larger_font_holds_fewer_characters() {
        let wide = budget_for_box(1100.0, 500.0, 30.0);
        assert!(
            budget_for_box(760.0, 500.0, 30.0) < wide,
            "bookmark panel open"
        );
        assert!(budget_for_box(1100.0, 500.0, 38.0) < wide, "large text");
        assert!(budget_for_box(1100.0, 300.0, 30.0) < wide, "a banner");
        assert_eq!(budget_for_box(0.0, 0.0, 30.0), PAGE_CHARS_LARGE);
    }

    #[test]
    fn the_list_and_the_reader_say_the_same_place() {
        let r = Reader::new("b", book(), false, PAGE_CHARS, 8);
        let (start, _) = r.span().unwrap();
        assert_eq!(r.fraction(), fraction(start, book().len()));
    }

    #[test]
    fn a_bookmark_on_the_page_is_the_one_a_tap_removes() {
        let r = Reader::new("b", book(), false, PAGE_CHARS, 0);
        let (start, end) = r.span().unwrap();
        let (at, excerpt) = r.mark_target(&[]).unwrap();
        assert_eq!(at as usize, start);
        assert_eq!(excerpt, "La zorra y las uvas");
        let inside = (end - 1) as u32;
        assert_eq!(r.mark_target(&[99, inside]).unwrap().0, inside);
    }
}
