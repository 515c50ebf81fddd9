//! The Books page: the list and the reader (a [`Reader`] over the book).
//! [`BooksController`] works over a [`BooksService`] and needs no window;
//! [`show_list`] and [`show_page`] are the one place its views become
//! adapter properties and translated text.

use slint::{ComponentHandle, SharedString};

use super::model;
use crate::tablet::{BookCard, BookView, Bookmark, CoreError};
use crate::ui::reader::{Piece, Reader};
use crate::ui::{AppWindow, BookRow, BooksAdapter, MarkRow, ParaRow, Tr};

/// What the Books page needs of the tablet, for the person signed in.
pub trait BooksService {
    fn books(&self) -> Result<Vec<BookCard>, CoreError>;
    /// The items of the books matching what was typed.
    fn search(&self, text: &str) -> Result<Vec<String>, CoreError>;
    fn open(&self, item: &str) -> Result<BookView, CoreError>;
    fn bookmarks(&self, item: &str) -> Result<Vec<Bookmark>, CoreError>;
    fn toggle_bookmark(&self, item: &str, para: u32, excerpt: &str) -> Result<(), CoreError>;
    fn set_position(&self, item: &str, para: u32) -> Result<(), CoreError>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookNote {
    Unread,
    Percent(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct BookLine {
    pub item: String,
    pub title: String,
    pub author: String,
    pub free: bool,
    pub note: BookNote,
    pub progress: f32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkLine {
    pub para: u32,
    pub excerpt: String,
    /// The page it is on, from 0.
    pub page: usize,
}

/// The reader's page.
#[derive(Clone, Debug, PartialEq)]
pub struct PageView {
    pub title: String,
    pub free: bool,
    pub pieces: Vec<Piece>,
    /// From 0, and how many pages there are.
    pub page: usize,
    pub pages: usize,
    /// How far into the book, as the book list says it.
    pub fraction: f32,
    /// A bookmark is on this page.
    pub marked: bool,
    pub marks: Vec<MarkLine>,
}

impl PageView {
    pub fn has_prev(&self) -> bool {
        self.page > 0
    }
    pub fn has_next(&self) -> bool {
        self.page + 1 < self.pages
    }
}

/// The Books page's controller: the book open, if any.
#[derive(Default)]
pub struct BooksController {
    book: Option<(Reader, String)>,
}

impl BooksController {
    /// Whether time on the page is unmetered: a free book is open.
    pub fn reading_free(&self) -> bool {
        self.book.as_ref().is_some_and(|(b, _)| b.free)
    }

    pub fn close(&mut self) {
        self.book = None;
    }

    /// The person's books, those matching `query` when one is typed.
    pub fn list(&self, svc: &impl BooksService, query: &str) -> Vec<BookLine> {
        let all = super::logged("books", svc.books());
        let keep: Option<Vec<String>> =
            (!query.trim().is_empty()).then(|| super::logged("book search", svc.search(query)));
        all.into_iter()
            .filter(|b| keep.as_ref().is_none_or(|k| k.contains(&b.item)))
            .map(|b| {
                let progress = match b.position {
                    Some(p) => crate::ui::reader::fraction(p as usize, b.paras as usize),
                    None => 0.0,
                };
                BookLine {
                    note: match b.position {
                        None => BookNote::Unread,
                        Some(_) => BookNote::Percent((progress * 100.0).round() as u32),
                    },
                    item: b.item,
                    title: b.title,
                    author: b.author,
                    free: b.free,
                    progress,
                }
            })
            .collect()
    }

    /// Open `item` where the person was, with `budget` characters a page.
    pub fn open(
        &mut self,
        svc: &impl BooksService,
        item: &str,
        budget: usize,
    ) -> Result<PageView, CoreError> {
        let v = svc.open(item)?;
        let reader = Reader::new(
            item,
            v.paras,
            v.card.free,
            budget,
            v.card.position.unwrap_or(0) as usize,
        );
        self.book = Some((reader, v.card.title));
        self.page(svc, budget).ok_or_else(|| {
            CoreError::Refused(crate::tablet::Refusal::Content(
                crate::tablet::ContentRefusal::NotHere(item.into()),
            ))
        })
    }

    /// The page on show, at `budget` (the text size may have changed),
    /// and the reading position saved there.
    pub fn page(&mut self, svc: &impl BooksService, budget: usize) -> Option<PageView> {
        let (b, title) = self.book.as_mut()?;
        b.set_budget(budget);
        let (start, end) = b.span()?;
        let (page, pages) = b.position();
        let marks = super::logged("bookmarks", svc.bookmarks(&b.item));
        if let Err(e) = svc.set_position(&b.item, start as u32) {
            tracing::error!("saving the reading position: {e}");
        }
        Some(PageView {
            title: title.clone(),
            free: b.free,
            pieces: b.pieces(),
            page,
            pages,
            fraction: b.fraction(),
            marked: marks
                .iter()
                .any(|m| (start..end).contains(&(m.para as usize))),
            marks: marks
                .into_iter()
                .map(|m| MarkLine {
                    page: b.page_of(m.para as usize),
                    para: m.para,
                    excerpt: m.excerpt,
                })
                .collect(),
        })
    }

    /// Turn `by` pages; `None` when there is no page that way.
    pub fn turn(&mut self, svc: &impl BooksService, by: i64, budget: usize) -> Option<PageView> {
        let (b, _) = self.book.as_mut()?;
        b.set_budget(budget);
        if b.turn(by) {
            self.page(svc, budget)
        } else {
            None
        }
    }

    /// The bookmark this page holds comes off; else one goes on at its start.
    pub fn toggle_mark(&mut self, svc: &impl BooksService, budget: usize) -> Option<PageView> {
        let (b, _) = self.book.as_ref()?;
        let marks: Vec<u32> = super::logged("bookmarks", svc.bookmarks(&b.item))
            .iter()
            .map(|m| m.para)
            .collect();
        let (at, excerpt) = b.mark_target(&marks)?;
        if let Err(e) = svc.toggle_bookmark(&b.item, at, &excerpt) {
            tracing::error!("bookmark: {e}");
        }
        self.page(svc, budget)
    }

    pub fn go_mark(
        &mut self,
        svc: &impl BooksService,
        para: usize,
        budget: usize,
    ) -> Option<PageView> {
        let (b, _) = self.book.as_mut()?;
        b.go_to(para);
        self.page(svc, budget)
    }
}

pub(in crate::ui) fn show_list(ui: &AppWindow, lines: &[BookLine]) {
    let tr = ui.global::<Tr>();
    let rows: Vec<BookRow> = lines
        .iter()
        .map(|b| BookRow {
            item: b.item.clone().into(),
            title: b.title.clone().into(),
            author: b.author.clone().into(),
            free: b.free,
            note: match b.note {
                BookNote::Unread => tr.invoke_unread_book(),
                BookNote::Percent(p) => format!("{p}%").into(),
            },
            progress: b.progress,
        })
        .collect();
    ui.global::<BooksAdapter>().set_books(model(rows));
}

pub(in crate::ui) fn show_page(ui: &AppWindow, v: &PageView) {
    let g = ui.global::<BooksAdapter>();
    let tr = ui.global::<Tr>();
    g.set_title(SharedString::from(v.title.as_str()));
    g.set_free(v.free);
    g.set_page(model(
        v.pieces
            .iter()
            .map(|p| ParaRow {
                heading: p.heading,
                text: p.text.clone().into(),
            })
            .collect(),
    ));
    let total = v.pages as i32;
    let percent = (v.fraction * 100.0).round() as i32;
    g.set_page_label(tr.invoke_page_of_percent(v.page as i32 + 1, total, percent));
    g.set_progress(v.fraction);
    g.set_has_prev(v.has_prev());
    g.set_has_next(v.has_next());
    g.set_marked(v.marked);
    g.set_marks(model(
        v.marks
            .iter()
            .map(|m| MarkRow {
                para: m.para as i32,
                excerpt: m.excerpt.clone().into(),
                page: tr.invoke_page_of(m.page as i32 + 1, total),
            })
            .collect(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content::Para;
    use std::cell::RefCell;

    struct Svc {
        paras: Vec<Para>,
        position: RefCell<Option<u32>>,
        marks: RefCell<Vec<Bookmark>>,
    }
    fn svc(n: usize) -> Svc {
        Svc {
            paras: (0..n)
                .map(|i| Para {
                    heading: i == 0,
                    text: format!("Párrafo {i}: {}", "palabra ".repeat(30)),
                })
                .collect(),
            position: RefCell::new(None),
            marks: RefCell::new(Vec::new()),
        }
    }
    fn card(s: &Svc, item: &str) -> BookCard {
        BookCard {
            item: item.into(),
            title: format!("Libro {item}"),
            author: "Autora".into(),
            subject: "novela".into(),
            free: item == "free",
            position: *s.position.borrow(),
            paras: s.paras.len() as u32,
        }
    }
    impl BooksService for Svc {
        fn books(&self) -> Result<Vec<BookCard>, CoreError> {
            Ok(vec![card(self, "b1"), card(self, "free")])
        }
        fn search(&self, text: &str) -> Result<Vec<String>, CoreError> {
            Ok(if text.contains("free") {
                vec!["free".into()]
            } else {
                vec![]
            })
        }
        fn open(&self, item: &str) -> Result<BookView, CoreError> {
            Ok(BookView {
                card: card(self, item),
                paras: self.paras.clone(),
                bookmarks: self.marks.borrow().clone(),
            })
        }
        fn bookmarks(&self, _: &str) -> Result<Vec<Bookmark>, CoreError> {
            Ok(self.marks.borrow().clone())
        }
        fn toggle_bookmark(&self, _: &str, para: u32, excerpt: &str) -> Result<(), CoreError> {
            let mut m = self.marks.borrow_mut();
            match m.iter().position(|b| b.para == para) {
                Some(i) => {
                    m.remove(i);
                }
                None => m.push(Bookmark {
                    para,
                    excerpt: excerpt.into(),
                    at: String::new(),
                }),
            }
            Ok(())
        }
        fn set_position(&self, _: &str, para: u32) -> Result<(), CoreError> {
            *self.position.borrow_mut() = Some(para);
            Ok(())
        }
    }

    #[test]
    fn the_list_says_unread_or_how_far_and_filters_by_search() {
        let s = svc(10);
        let b = BooksController::default();
        let lines = b.list(&s, "");
        assert_eq!(lines[0].note, BookNote::Unread);
        *s.position.borrow_mut() = Some(4);
        assert_eq!(b.list(&s, "")[0].note, BookNote::Percent(50));
        let found = b.list(&s, "free");
        assert_eq!(found.len(), 1);
        assert!(found[0].free);
    }

    #[test]
    fn reading_saves_the_place_and_reopens_there() {
        let s = svc(40);
        let mut b = BooksController::default();
        let first = b.open(&s, "b1", 900).unwrap();
        assert_eq!(first.page, 0);
        assert!(!first.has_prev() && first.has_next());
        let next = b.turn(&s, 1, 900).unwrap();
        assert_eq!(next.page, 1);
        let saved = s.position.borrow().unwrap();
        assert!(saved > 0, "the place moved on");
        assert!(b.turn(&s, -5, 900).is_none(), "no page that way");
        assert_eq!(s.position.borrow().unwrap(), saved, "nothing moved");
        b.close();
        assert!(b.page(&s, 900).is_none());
        assert_eq!(
            b.open(&s, "b1", 900).unwrap().page,
            1,
            "reopens where the person was"
        );
    }

    #[test]
    fn larger_text_makes_more_pages_at_the_same_place() {
        let s = svc(40);
        let mut b = BooksController::default();
        let small = b.open(&s, "b1", 900).unwrap();
        let large = b.page(&s, 520).unwrap();
        assert!(large.pages > small.pages);
        assert_eq!(large.pieces[0], small.pieces[0]);
    }

    #[test]
    fn a_bookmark_goes_on_the_page_and_comes_off_again() {
        let s = svc(40);
        let mut b = BooksController::default();
        b.open(&s, "b1", 900).unwrap();
        b.turn(&s, 2, 900).unwrap();
        let v = b.toggle_mark(&s, 900).unwrap();
        assert!(v.marked);
        assert_eq!(v.marks.len(), 1);
        assert_eq!(v.marks[0].page, 2);
        assert!(v.marks[0].excerpt.starts_with("Párrafo"));
        let para = v.marks[0].para as usize;
        b.turn(&s, -2, 900).unwrap();
        let back = b.go_mark(&s, para, 900).unwrap();
        assert_eq!(back.page, 2);
        let v = b.toggle_mark(&s, 900).unwrap();
        assert!(!v.marked && v.marks.is_empty());
    }

    #[test]
    fn only_a_free_book_leaves_time_unmetered() {
        let s = svc(3);
        let mut b = BooksController::default();
        assert!(!b.reading_free());
        b.open(&s, "free", 900).unwrap();
        assert!(b.reading_free());
        b.open(&s, "b1", 900).unwrap();
        assert!(!b.reading_free());
        b.close();
        assert!(!b.reading_free());
    }
}
