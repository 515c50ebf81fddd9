//! Sessions cut at every protocol step, on either side: every letter is
//! delivered exactly once, none is lost, and every cursor stays correct.

use std::sync::{Arc, Mutex};

use berth::domain::messages::OutState;

use proptest::prelude::*;

use berth::sync::client::{self, SyncError};

use crate::sync::{DockWorld, maria};

const CLIENT_STEPS: &[&str] = &[
    "sync:after-hello",
    "sync:after-upload-sent",
    "sync:after-ack-received",
    "sync:after-ack-applied",
    "sync:after-feed-received",
    "sync:after-feed-applied",
];
const SERVER_STEPS: &[&str] = &["dock:after-store-letters", "dock:before-reply"];

/// A one-shot cut: fires at the `skip`-th time `step` is reached.
#[derive(Default)]
struct Armed(Mutex<Option<(String, u32)>>);

impl Armed {
    fn arm(&self, step: &str, skip: u32) {
        *self.0.lock().unwrap() = Some((step.to_string(), skip));
    }
    fn fire(&self, at: &str) -> bool {
        let mut g = self.0.lock().unwrap();
        match g.as_mut() {
            Some((s, 0)) if s == at => {
                *g = None;
                true
            }
            Some((s, n)) if s == at => {
                *n -= 1;
                false
            }
            _ => false,
        }
    }
}

fn world() -> (DockWorld, Arc<Armed>) {
    let armed = Arc::new(Armed::default());
    let a = armed.clone();
    let dw = DockWorld::with_cuts(Some(Arc::new(move |s: &str| a.fire(s))));
    (dw, armed)
}

fn count(dw: &DockWorld, sql: &str) -> i64 {
    rusqlite::Connection::open(dw.data.join("dock.db"))
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_lost_ack_then_a_resend_leaves_one_server_record() {
    let (dw, armed) = world();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let row = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "hola")
        .unwrap();
    armed.arm("dock:after-store-letters", 0);
    assert!(matches!(dw.sync(&t), Err(SyncError::Broken(_))));
    assert_eq!(count(&dw, "SELECT COUNT(*) FROM letters"), 1, "committed");
    assert_eq!(
        t.lock().unwrap().letters().outbox_for(&s).unwrap()[0].state,
        OutState::Queued,
        "no ack reached the tablet"
    );
    dw.sync(&t).unwrap();
    assert_eq!(
        count(&dw, "SELECT COUNT(*) FROM letters"),
        1,
        "resend changed nothing"
    );
    let out = t.lock().unwrap().letters().outbox_for(&s).unwrap();
    assert_eq!(
        (out[0].id.as_str(), out[0].state),
        (row.id.as_str(), OutState::InReview)
    );
    // Exactly one copy and one state entry went into the feed.
    assert_eq!(count(&dw, "SELECT COUNT(*) FROM feed"), 2);
}

#[derive(Clone, Debug)]
struct Round {
    letters: usize,
    replies: usize,
    /// (server side?, step index, occurrence to cut at)
    cut: Option<(bool, usize, u32)>,
}

fn round() -> impl Strategy<Value = Round> {
    (
        0usize..3,
        0usize..2,
        proptest::option::of((any::<bool>(), 0usize..6, 0u32..2)),
    )
        .prop_map(|(letters, replies, cut)| Round {
            letters,
            replies,
            cut,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn cuts_anywhere_deliver_every_letter_exactly_once(rounds in proptest::collection::vec(round(), 1..6)) {
        let (dw, armed) = world();
        let t = dw.tablet("tab-1");
        let s = maria(&t);
        let mut dock = dw.dock();
        let mut written = Vec::new();
        let mut replies = 0;
        for (i, r) in rounds.iter().enumerate() {
            for k in 0..r.letters {
                let row = t.lock().unwrap().letters().queue_letter(&s, "ana", &format!("carta {i}.{k} ñ")).unwrap();
                written.push(row.id);
            }
            for k in 0..r.replies {
                dw.drop_reply(&format!("r{i}-{k}"), "ana.gonzalez@example.org", &format!("respuesta {i}.{k} 🌻"));
                replies += 1;
            }
            dw.approve_replies(&mut dock);
            for item in dock.review_list().unwrap() {
                dock.review_approve(&item.id, &"officer".parse().unwrap()).unwrap();
            }
            let result = match r.cut {
                Some((true, step, nth)) => {
                    armed.arm(SERVER_STEPS[step % SERVER_STEPS.len()], nth);
                    dw.sync(&t)
                }
                Some((false, step, nth)) => {
                    let fired = Armed::default();
                    fired.arm(CLIENT_STEPS[step % CLIENT_STEPS.len()], nth);
                    client::sync_with_cuts(&t, &dw.addr, &mut |_| {}, &|at| fired.fire(at))
                }
                None => dw.sync(&t),
            };
            armed.0.lock().unwrap().take();
            if let Err(e) = &result {
                prop_assert!(matches!(e, SyncError::Broken(_)), "only cuts may fail: {e}");
            }
        }
        // Docked again without cuts: everything settles.
        dw.sync(&t).unwrap();
        for item in dock.review_list().unwrap() {
            dock.review_approve(&item.id, &"officer".parse().unwrap()).unwrap();
        }
        dw.sync(&t).unwrap();

        prop_assert_eq!(count(&dw, "SELECT COUNT(*) FROM letters") as usize, written.len());
        prop_assert_eq!(count(&dw, "SELECT COUNT(DISTINCT id) FROM letters") as usize, written.len());
        let eml_files = std::fs::read_dir(dw.data.join("gateway/outbox")).unwrap().count();
        prop_assert_eq!(eml_files, written.len(), "one .eml per letter");
        let out = t.lock().unwrap().letters().outbox_for(&s).unwrap();
        prop_assert_eq!(out.len(), written.len());
        prop_assert!(out.iter().all(|r| r.state == OutState::Approved), "{:?}", out.iter().map(|r| &r.state).collect::<Vec<_>>());
        let thread = t.lock().unwrap().letters().open_thread(&s, "ana").unwrap();
        let incoming: Vec<_> = thread.iter().filter(|i| !i.outgoing).collect();
        prop_assert_eq!(incoming.len(), replies, "each reply exactly once");
        let max_seq = count(&dw, "SELECT COALESCE(MAX(seq), 0) FROM feed WHERE person = 'A12345'") as u64;
        let cursor = t.lock().unwrap().sync().feed_cursor(&berth::domain::people::PersonId::parse("A12345").unwrap()).unwrap();
        prop_assert_eq!(cursor, max_seq);
    }
}
