//! A Slint model over a list too long to hold: it knows its length and
//! fetches a page of rows when the view asks for a row it has not got,
//! keeping the few pages last used. With a `ListView`, which instantiates
//! only the rows on screen, a list of 10,000 tracks holds a few hundred.

use std::cell::RefCell;
use std::collections::VecDeque;

use slint::{Model, ModelNotify, ModelTracker};

/// Rows fetched at a time.
pub const PAGE: usize = 64;
/// Pages kept (the one on screen, its neighbours, and one more).
pub const PAGES_KEPT: usize = 4;

/// `count` rows, fetched `PAGE` at a time by `fetch(offset, limit)`.
pub struct Paged<T> {
    count: usize,
    page: usize,
    kept: usize,
    fetch: Box<dyn Fn(usize, usize) -> Vec<T>>,
    /// Most recently used first.
    pages: RefCell<VecDeque<(usize, Vec<T>)>>,
    notify: ModelNotify,
}

impl<T: Clone + 'static> Paged<T> {
    pub fn new(count: usize, fetch: impl Fn(usize, usize) -> Vec<T> + 'static) -> Self {
        Self::with_pages(count, PAGE, PAGES_KEPT, fetch)
    }

    /// Pages of `page` rows, `kept` of them held (rows that are costly to
    /// hold, such as album covers, come in smaller pages).
    pub fn with_pages(
        count: usize,
        page: usize,
        kept: usize,
        fetch: impl Fn(usize, usize) -> Vec<T> + 'static,
    ) -> Self {
        Paged {
            count,
            page: page.max(1),
            kept: kept.max(1),
            fetch: Box::new(fetch),
            pages: RefCell::new(VecDeque::new()),
            notify: ModelNotify::default(),
        }
    }

    /// Rows held in memory now.
    pub fn held(&self) -> usize {
        self.pages.borrow().iter().map(|(_, r)| r.len()).sum()
    }
}

impl<T: Clone + 'static> Model for Paged<T> {
    type Data = T;

    fn row_count(&self) -> usize {
        self.count
    }

    fn row_data(&self, row: usize) -> Option<T> {
        if row >= self.count {
            return None;
        }
        let page = row / self.page;
        let mut pages = self.pages.borrow_mut();
        match pages.iter().position(|(p, _)| *p == page) {
            Some(0) => {}
            Some(i) => {
                let hit = pages.remove(i)?;
                pages.push_front(hit);
            }
            None => {
                let rows = (self.fetch)(page * self.page, self.page);
                pages.push_front((page, rows));
                pages.truncate(self.kept);
            }
        }
        pages.front()?.1.get(row % self.page).cloned()
    }

    fn model_tracker(&self) -> &dyn ModelTracker {
        &self.notify
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn rows_are_fetched_a_page_at_a_time_and_few_are_held() {
        let calls = Rc::new(Cell::new(0));
        let c = calls.clone();
        let m = Paged::new(10_000, move |off, n| {
            c.set(c.get() + 1);
            (off..(off + n).min(10_000)).collect::<Vec<usize>>()
        });
        assert_eq!(m.row_count(), 10_000);
        assert_eq!(calls.get(), 0, "nothing is fetched before it is shown");
        for r in 0..20 {
            assert_eq!(m.row_data(r), Some(r));
        }
        assert_eq!(calls.get(), 1, "one page serves the first screen");
        // Scrolling to the end and back fetches each page once on the way.
        for r in (0..10_000).step_by(7) {
            assert_eq!(m.row_data(r), Some(r));
        }
        assert_eq!(calls.get(), 10_000usize.div_ceil(PAGE));
        assert!(m.held() <= PAGES_KEPT * PAGE, "{} rows held", m.held());
        assert_eq!(m.row_data(9_999), Some(9_999));
        assert_eq!(m.row_data(10_000), None);
        // A page kept is not fetched again.
        let before = calls.get();
        m.row_data(9_990);
        assert_eq!(calls.get(), before);
    }

    #[test]
    fn a_failed_fetch_gives_no_row_rather_than_a_wrong_one() {
        let m = Paged::new(5, |_, _| Vec::<u8>::new());
        assert_eq!(m.row_data(0), None);
    }
}
