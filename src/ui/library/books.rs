//! The Books page: the list and the reader (a [`Reader`] over the book).

#[allow(unused_imports)]
use super::*;

pub(in crate::ui) fn open_books(ui: &AppWindow, c: &mut Core) {
    c.lib.book = None;
    let g = ui.global::<BooksAdapter>();
    g.set_mode("list".into());
    g.set_query(SharedString::default());
    fill_books(ui, c, "");
    ui.global::<AppState>().set_page("books".into());
}

pub(super) fn fill_books(ui: &AppWindow, c: &mut Core, query: &str) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let all = logged("books", c.t().library().books(s));
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

pub(super) fn open_book(ui: &AppWindow, c: &mut Core, item: &str) {
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

pub(super) fn show_page(ui: &AppWindow, c: &mut Core) {
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

pub(super) fn turn(ui: &AppWindow, c: &mut Core, by: i64) {
    let Some(b) = &mut c.lib.book else { return };
    if b.turn(by) {
        show_page(ui, c);
    }
}

pub(super) fn toggle_mark(ui: &AppWindow, c: &mut Core) {
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

pub(super) fn go_mark(ui: &AppWindow, c: &mut Core, para: usize) {
    let Some(b) = &mut c.lib.book else { return };
    b.go_to(para);
    show_page(ui, c);
}
