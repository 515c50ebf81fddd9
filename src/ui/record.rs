//! The My record page: what the person earned, then what they did, newest
//! first. The controller needs no window; `show` is the one place the
//! page's texts are chosen.

use chrono_tz::Tz;
use slint::{ComponentHandle, ModelRc, VecModel};

use super::{AppWindow, CertificateRow, RecordAdapter, RecordRow, Tr};
use crate::audit::AuditEntry;
use crate::tablet::{CertificateCard, CoreError};

/// What the page needs of the tablet, for the person signed in.
pub trait RecordService {
    /// The person's own audit entries, oldest first.
    fn entries(&self) -> Result<Vec<AuditEntry>, CoreError>;
    fn certificates(&self) -> Result<Vec<CertificateCard>, CoreError>;
    fn time_zone(&self) -> Tz;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordWhat {
    /// An audit entry of this kind (`audit::kind`).
    Event(String),
    /// A certificate; its own page shows the rest.
    Certificate(CertificateLine),
}

/// What a certificate's page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateLine {
    /// In the person's language.
    pub course: String,
    pub score_percent: u32,
    pub person_name: String,
    pub person: String,
    pub facility: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub code: String,
    pub uploaded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLine {
    /// Local time: a date for certificates, date and time for events.
    pub when: String,
    pub what: RecordWhat,
}

/// The lines of the page: certificates first, then events newest first.
/// A failure to read either is logged and leaves that part empty.
pub fn lines(svc: &impl RecordService) -> Vec<RecordLine> {
    let tz = svc.time_zone();
    let mut out: Vec<RecordLine> = svc
        .certificates()
        .map_err(|e| tracing::error!("certificates: {e}"))
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let date = c
                .doc
                .completed
                .with_timezone(&tz)
                .format("%Y-%m-%d")
                .to_string();
            RecordLine {
                when: date.clone(),
                what: RecordWhat::Certificate(CertificateLine {
                    course: c.course_title,
                    score_percent: c.doc.score_percent,
                    person_name: c.doc.person_name,
                    person: c.doc.person.to_string(),
                    facility: c.doc.facility.to_string(),
                    date,
                    code: c.code,
                    uploaded: c.uploaded,
                }),
            }
        })
        .collect();
    let entries = svc
        .entries()
        .map_err(|e| tracing::error!("audit entries: {e}"))
        .unwrap_or_default();
    out.extend(entries.into_iter().rev().map(|e| RecordLine {
        when: e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        what: RecordWhat::Event(e.kind),
    }));
    out
}

pub fn show(ui: &AppWindow, lines: &[RecordLine]) {
    let tr = ui.global::<Tr>();
    let mut certificates = Vec::new();
    let rows: Vec<RecordRow> = lines
        .iter()
        .map(|l| match &l.what {
            RecordWhat::Event(kind) => RecordRow {
                when: l.when.as_str().into(),
                what: tr.invoke_record_what(kind.as_str().into()),
                certificate: -1,
            },
            RecordWhat::Certificate(c) => {
                certificates.push(CertificateRow {
                    course: c.course.as_str().into(),
                    person: tr
                        .invoke_awarded_to(c.person_name.as_str().into(), c.person.as_str().into()),
                    date: c.date.as_str().into(),
                    score: tr.invoke_certificate_score(c.score_percent as i32),
                    facility: c.facility.as_str().into(),
                    code: c.code.as_str().into(),
                    copy: if c.uploaded {
                        tr.invoke_certificate_uploaded()
                    } else {
                        tr.invoke_certificate_not_uploaded()
                    },
                });
                RecordRow {
                    when: l.when.as_str().into(),
                    what: tr
                        .invoke_certificate_row(c.course.as_str().into(), c.score_percent as i32),
                    certificate: certificates.len() as i32 - 1,
                }
            }
        })
        .collect();
    let g = ui.global::<RecordAdapter>();
    g.set_rows(ModelRc::new(VecModel::from(rows)));
    g.set_certificates(ModelRc::new(VecModel::from(certificates)));
    g.set_open(-1);
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::content::CertificateDoc;
    use crate::domain::{PublicKey, Sha256};

    struct Memory {
        entries: Vec<(&'static str, &'static str)>,
        certificates: Vec<(&'static str, u32, &'static str)>,
        broken: bool,
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    impl RecordService for Memory {
        fn entries(&self) -> Result<Vec<AuditEntry>, CoreError> {
            if self.broken {
                return Err(crate::tablet::Refusal::LeftRoster.into());
            }
            Ok(self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (kind, when))| AuditEntry {
                    seq: i as u64 + 1,
                    at: at(when),
                    person: Some("A12345".into()),
                    kind: kind.to_string(),
                    detail: String::new(),
                    prev: Sha256([0; 32]),
                    hash: Sha256([0; 32]),
                })
                .collect())
        }
        fn certificates(&self) -> Result<Vec<CertificateCard>, CoreError> {
            Ok(self
                .certificates
                .iter()
                .map(|(title, score, when)| CertificateCard {
                    course_title: title.to_string(),
                    code: "ABCD-EF01-2345".into(),
                    uploaded: false,
                    doc: CertificateDoc {
                        facility: crate::domain::FacilityId::parse("demo-facility").unwrap(),
                        id: "c1".into(),
                        person: crate::domain::people::PersonId::parse("A12345").unwrap(),
                        person_name: "María".into(),
                        course: "reading".into(),
                        course_title: "Reading Basics".into(),
                        completed: at(when),
                        score_percent: *score,
                        tablet: PublicKey([0; 32]),
                    },
                })
                .collect())
        }
        fn time_zone(&self) -> Tz {
            chrono_tz::America::Chicago
        }
    }

    #[test]
    fn certificates_come_first_then_events_newest_first_in_local_time() {
        let m = Memory {
            entries: vec![
                ("login", "2026-06-03T15:00:00Z"),
                ("message-queued", "2026-06-03T16:30:00Z"),
            ],
            certificates: vec![("Lectura básica", 100, "2026-06-04T03:00:00Z")],
            broken: false,
        };
        let l = lines(&m);
        assert_eq!(
            l,
            [
                RecordLine {
                    when: "2026-06-03".into(),
                    what: RecordWhat::Certificate(CertificateLine {
                        course: "Lectura básica".into(),
                        score_percent: 100,
                        person_name: "María".into(),
                        person: "A12345".into(),
                        facility: "demo-facility".into(),
                        date: "2026-06-03".into(),
                        code: "ABCD-EF01-2345".into(),
                        uploaded: false,
                    })
                },
                RecordLine {
                    when: "2026-06-03 11:30".into(),
                    what: RecordWhat::Event("message-queued".into())
                },
                RecordLine {
                    when: "2026-06-03 10:00".into(),
                    what: RecordWhat::Event("login".into())
                },
            ]
        );
    }

    #[test]
    fn a_failed_read_leaves_the_rest_of_the_record() {
        let m = Memory {
            entries: vec![("login", "2026-06-03T15:00:00Z")],
            certificates: vec![("Reading Basics", 90, "2026-06-03T15:00:00Z")],
            broken: true,
        };
        assert_eq!(lines(&m).len(), 1, "the certificate still shows");
    }
}
