//! The Learn page: courses, lessons with narration, quizzes and results.

#[allow(unused_imports)]
use super::*;

pub(in crate::ui) fn open_learn(ui: &AppWindow, c: &mut Core) {
    let g = ui.global::<LearnAdapter>();
    g.set_mode("list".into());
    g.set_query(SharedString::default());
    g.set_results(model(Vec::new()));
    fill_courses(ui, c);
    ui.global::<AppState>().set_page("learn".into());
}

pub(super) fn fill_courses(ui: &AppWindow, c: &mut Core) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let g = ui.global::<LearnAdapter>();
    let subject = c.lib.learn_subject.clone();
    let cards = logged("courses", c.t().library().courses(s));
    let rows: Vec<CourseCardRow> = cards
        .iter()
        .filter(|k| subject.is_empty() || k.subject == subject)
        .map(|k| {
            let total = k.lessons + k.quizzes;
            let done = k.done + k.passed;
            CourseCardRow {
                item: k.item.clone().into(),
                title: k.title.clone().into(),
                description: k.description.clone().into(),
                subject: k.subject.clone().into(),
                progress: if total == 0 {
                    0.0
                } else {
                    done as f32 / total as f32
                },
                note: if k.certified {
                    tr.invoke_certified()
                } else if done == 0 {
                    tr.invoke_not_started()
                } else {
                    tr.invoke_steps_done(done as i32, total as i32)
                },
                certified: k.certified,
            }
        })
        .collect();
    g.set_courses(model(rows));
    let subjects: Vec<SharedString> = c
        .t()
        .library()
        .subjects(s, &["course"])
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    g.set_subjects(model(subjects));
    g.set_subject(subject.into());
    g.set_kind(c.lib.learn_kind.clone().into());
}

pub(super) fn learn_search(ui: &AppWindow, c: &mut Core, text: &str) {
    let Some(s) = &c.session else { return };
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    let kinds: Vec<&str> = match c.lib.learn_kind.as_str() {
        "course" => vec!["course"],
        "lesson" => vec!["lesson"],
        _ => vec!["course", "lesson"],
    };
    let subject = (!c.lib.learn_subject.is_empty()).then_some(c.lib.learn_subject.as_str());
    let rows = c
        .t()
        .library()
        .search(s, text, &kinds, subject)
        .unwrap_or_default();
    let lang = s.language().to_string();
    g.set_results(model(
        rows.into_iter()
            .map(|r| SearchRow {
                item: r.item.clone().into(),
                kind: r.kind.clone().into(),
                title: match (&r.title_es, lang.as_str()) {
                    (Some(t), "es") => t.clone(),
                    _ => r.title.clone(),
                }
                .into(),
                subtitle: format!(
                    "{}{}",
                    tr.invoke_lesson_kind(r.kind.clone().into()),
                    if r.subtitle.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", r.subtitle)
                    }
                )
                .into(),
            })
            .collect(),
    ));
}

pub(super) fn open_course(ui: &AppWindow, c: &mut Core, item: &str) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let view = c.t().library().course(s, item);
    let Ok(v) = view else {
        tracing::warn!("opening {item}: {:?}", view.err());
        return;
    };
    c.lib.course = Some(item.to_string());
    c.lib.lesson = None;
    c.lib.quiz = None;
    let g = ui.global::<LearnAdapter>();
    let total = v.card.lessons + v.card.quizzes;
    let done = v.card.done + v.card.passed;
    g.set_course(CourseCardRow {
        item: v.card.item.clone().into(),
        title: v.card.title.clone().into(),
        description: v.card.description.clone().into(),
        subject: v.card.subject.clone().into(),
        progress: if total == 0 {
            0.0
        } else {
            done as f32 / total as f32
        },
        note: if v.card.certified {
            tr.invoke_certified()
        } else {
            tr.invoke_steps_done(done as i32, total as i32)
        },
        certified: v.card.certified,
    });
    let mut last_unit = usize::MAX;
    let steps: Vec<StepRow> = v
        .steps
        .iter()
        .map(|st| {
            let first = st.unit != last_unit;
            last_unit = st.unit;
            StepRow {
                place: st.place.clone().into(),
                title: st.title.clone().into(),
                unit_title: st.unit_title.clone().into(),
                kind: st.place.split(':').next().unwrap_or("lesson").into(),
                done: st.done,
                note: match &st.score {
                    Some(sc) => tr.invoke_best_score(sc.into()),
                    None => SharedString::default(),
                },
                first_in_unit: first,
            }
        })
        .collect();
    let resume_title = v
        .resume
        .as_ref()
        .and_then(|p| v.steps.iter().find(|st| &st.place == p))
        .map(|st| st.title.clone())
        .unwrap_or_default();
    g.set_steps(model(steps));
    g.set_resume_place(v.resume.clone().unwrap_or_default().into());
    g.set_resume_title(resume_title.into());
    g.set_mode("course".into());
}

pub(super) fn open_step(ui: &AppWindow, c: &mut Core, place: &str) {
    let Some(course) = c.lib.course.clone() else {
        return;
    };
    let Some((kind, n)) = place.split_once(':') else {
        return;
    };
    let Ok(n) = n.parse::<usize>() else { return };
    match kind {
        "lesson" => open_lesson(ui, c, &course, n),
        "quiz" => open_quiz(ui, c, &course, n),
        _ => {}
    }
}

pub(super) fn styled(spans: &[Span]) -> (slint::StyledText, String) {
    let mut md = String::new();
    let mut plain = String::new();
    for sp in spans {
        let escaped: String = sp
            .text
            .chars()
            .flat_map(|ch| {
                let esc = matches!(ch, '*' | '_' | '\\' | '`' | '[' | ']' | '#' | '<' | '>');
                esc.then_some('\\').into_iter().chain(std::iter::once(ch))
            })
            .collect();
        let (open, close) = match (sp.bold, sp.italic) {
            (true, true) => ("***", "***"),
            (true, false) => ("**", "**"),
            (false, true) => ("*", "*"),
            _ => ("", ""),
        };
        // Emphasis markers must touch the words they wrap.
        let lead = escaped.len() - escaped.trim_start().len();
        let trail = escaped.len() - escaped.trim_end().len();
        if open.is_empty() || escaped.trim().is_empty() {
            md.push_str(&escaped);
        } else {
            md.push_str(&escaped[..lead]);
            md.push_str(open);
            md.push_str(escaped.trim());
            md.push_str(close);
            md.push_str(&escaped[escaped.len() - trail..]);
        }
        plain.push_str(&sp.text);
    }
    let st = slint::StyledText::from_markdown(&md)
        .unwrap_or_else(|_| slint::StyledText::from_plain_text(&plain));
    (st, plain)
}

pub(super) fn open_lesson(ui: &AppWindow, c: &mut Core, course: &str, index: usize) {
    let Some(s) = &c.session else { return };
    let tr = ui.global::<Tr>();
    let view = c.t().library().lesson(s, course, index);
    let v = match view {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("opening lesson {index} of {course}: {e}");
            return;
        }
    };
    let blocks: Vec<LessonBlock> = v
        .lesson
        .blocks
        .iter()
        .map(|b| {
            let mut row = LessonBlock::default();
            match b {
                Block::Heading { level, text } => {
                    row.kind = if *level <= 2 {
                        "h2".into()
                    } else {
                        "h3".into()
                    };
                    row.plain = text.clone().into();
                }
                Block::Paragraph(sp) => {
                    let (st, plain) = styled(sp);
                    row.kind = "p".into();
                    row.text = st;
                    row.plain = plain.into();
                }
                Block::Bullet(sp) | Block::Numbered { spans: sp, .. } => {
                    let (st, plain) = styled(sp);
                    row.kind = if matches!(b, Block::Bullet(_)) {
                        "bullet".into()
                    } else {
                        "number".into()
                    };
                    row.marker = match b {
                        Block::Numbered { n, .. } => format!("{n}.").into(),
                        _ => "•".into(),
                    };
                    row.text = st;
                    row.plain = plain.into();
                }
                Block::Image { path, alt } => {
                    row.kind = "image".into();
                    row.plain = alt.clone().into();
                    if let Some(img) = png_image(&v.base.join(path)) {
                        let sz = img.size();
                        row.ratio = sz.height as f32 / sz.width.max(1) as f32;
                        row.image = img;
                    }
                }
            }
            row
        })
        .collect();
    c.lib.lesson = Some(index);
    let g = ui.global::<LearnAdapter>();
    g.set_lesson_title(v.title.clone().into());
    g.set_lesson_position(tr.invoke_lesson_of(index as i32 + 1, v.count as i32));
    g.set_blocks(model(blocks));
    g.set_lesson_done(v.done);
    g.set_has_next(index + 1 < v.count);
    g.set_has_audio(v.audio.is_some());
    c.lib.narration = v.audio.clone();
    update_narration(ui, c);
    g.set_mode("lesson".into());
}

pub(super) fn narration_id(c: &Core) -> Option<String> {
    Some(format!(
        "narration:{}#{}",
        c.lib.course.as_ref()?,
        c.lib.lesson?
    ))
}

pub(super) fn toggle_narration(ui: &AppWindow, c: &mut Core) {
    let (Some(id), Some(path)) = (narration_id(c), c.lib.narration.clone()) else {
        return;
    };
    let st = c.lib.player.status();
    if st.track.as_deref() == Some(id.as_str()) {
        if st.playing {
            c.lib.player.pause();
        } else {
            c.lib.player.play();
        }
    } else {
        // Narration takes the player; the music queue waits.
        c.lib.queue.clear();
        c.lib.player.load(&id, &path, 0, 0, true);
        apply_volume(c, true);
    }
    update_narration(ui, c);
    update_player(ui, c);
}

pub(super) fn update_narration(ui: &AppWindow, c: &Core) {
    let g = ui.global::<LearnAdapter>();
    let st = c.lib.player.status();
    let mine = narration_id(c).is_some() && st.track == narration_id(c);
    g.set_narrating(mine && st.playing);
    let (pos, dur) = if mine {
        (st.position_ms, st.duration_ms)
    } else {
        (0, 0)
    };
    g.set_narration_time(format!("{} / {}", mmss(pos), mmss(dur)).into());
    g.set_narration_progress(if dur == 0 {
        0.0
    } else {
        pos as f32 / dur as f32
    });
}

pub(super) fn finish_lesson(ui: &AppWindow, c: &mut Core) {
    let (Some(course), Some(index)) = (c.lib.course.clone(), c.lib.lesson) else {
        return;
    };
    let Some(s) = &c.session else { return };
    let done = c.t().library().complete_lesson(s, &course, index);
    match done {
        Ok(Completed::Certified(cert)) => {
            open_course(ui, c, &course);
            show_certificate(ui, &cert.course_title);
            return;
        }
        Ok(Completed::Step) => {}
        Err(e) => tracing::error!("recording the lesson: {e}"),
    }
    // The next step: the next lesson, else the unit's quiz, else the course.
    open_course(ui, c, &course);
    let steps = ui.global::<LearnAdapter>().get_steps();
    let here = format!("lesson:{index}");
    let next = (0..steps.row_count())
        .filter_map(|i| steps.row_data(i))
        .skip_while(|st| st.place != here.as_str())
        .nth(1);
    if let Some(st) = next {
        open_step(ui, c, &st.place);
    }
}

pub(super) fn show_certificate(ui: &AppWindow, course: &str) {
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    g.set_certificate_note(tr.invoke_certificate_earned(course.into()));
    g.set_passed(true);
    g.set_review(model(Vec::new()));
    g.set_score(SharedString::default());
    g.set_mode("result".into());
}

pub(super) fn open_quiz(ui: &AppWindow, c: &mut Core, course: &str, unit: usize) {
    let Some(s) = &c.session else { return };
    let q = c.t().library().quiz(s, course, unit);
    let doc = match q {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("opening the quiz: {e}");
            return;
        }
    };
    let title = ui
        .global::<LearnAdapter>()
        .get_steps()
        .iter()
        .find(|st| st.place == format!("quiz:{unit}").as_str())
        .map(|st| st.title.to_string())
        .unwrap_or_default();
    c.lib.quiz = Some(QuizRun::new(course, unit, doc));
    let g = ui.global::<LearnAdapter>();
    g.set_quiz_title(
        ui.global::<Tr>()
            .invoke_feature("learn".into())
            .to_string()
            .into(),
    );
    if !title.is_empty() {
        g.set_quiz_title(title.into());
    }
    show_question(ui, c);
    g.set_mode("quiz".into());
}

pub(super) fn show_question(ui: &AppWindow, c: &Core) {
    let Some(q) = &c.lib.quiz else { return };
    let Some(s) = &c.session else { return };
    let lang = s.language();
    let (at, total) = q.position();
    let question = &q.doc.questions[at];
    let g = ui.global::<LearnAdapter>();
    let tr = ui.global::<Tr>();
    g.set_question(question.prompt.get(lang).into());
    g.set_question_position(tr.invoke_question_of(at as i32 + 1, total as i32));
    g.set_multiple(q.multiple());
    g.set_choices(model(
        question
            .choices
            .iter()
            .enumerate()
            .map(|(i, ch)| ChoiceRow {
                text: ch.get(lang).into(),
                chosen: q.chosen(i),
            })
            .collect(),
    ));
    g.set_last_question(q.last());
    g.set_can_next(q.can_next());
}

pub(super) fn choose(ui: &AppWindow, c: &mut Core, i: usize) {
    let Some(q) = &mut c.lib.quiz else { return };
    q.choose(i);
    show_question(ui, c);
}

pub(super) fn next_question(ui: &AppWindow, c: &mut Core) {
    let Some(q) = &mut c.lib.quiz else { return };
    let answers = match q.next() {
        Next::Stay => return,
        Next::Question => {
            show_question(ui, c);
            return;
        }
        Next::Done(answers) => answers,
    };
    let (course, unit) = (q.course.clone(), q.unit);
    let Some(s) = &c.session else { return };
    let submitted = c.t().library().submit_quiz(s, &course, unit, &answers);
    let (result, done) = match submitted {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("recording the quiz: {e}");
            return;
        }
    };
    let lang = s.language().to_string();
    let Some(q) = &c.lib.quiz else { return };
    let tr = ui.global::<Tr>();
    let g = ui.global::<LearnAdapter>();
    g.set_passed(result.passed);
    g.set_score(tr.invoke_score(
        result.correct as i32,
        result.total as i32,
        q.doc.pass_mark as i32,
    ));
    g.set_review(model(
        q.doc
            .questions
            .iter()
            .zip(&result.right)
            .map(|(qq, right)| ReviewRow {
                prompt: qq.prompt.get(&lang).into(),
                right: *right,
                answer: qq
                    .answer
                    .iter()
                    .filter_map(|i| qq.choices.get(*i).map(|ch| ch.get(&lang).to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
                    .into(),
                explanation: qq.explanation.get(&lang).into(),
            })
            .collect(),
    ));
    g.set_certificate_note(match &done {
        Completed::Certified(cert) => {
            tr.invoke_certificate_earned(cert.course_title.clone().into())
        }
        Completed::Step => SharedString::default(),
    });
    g.set_mode("result".into());
}

pub(super) fn learn_back(ui: &AppWindow, c: &mut Core) {
    let mode = ui.global::<LearnAdapter>().get_mode();
    match (mode.as_str(), c.lib.course.clone()) {
        ("lesson" | "quiz" | "result", Some(course)) => open_course(ui, c, &course),
        _ => {
            c.lib.course = None;
            ui.global::<LearnAdapter>().set_mode("list".into());
            fill_courses(ui, c);
        }
    }
}

pub(super) fn open_result(ui: &AppWindow, c: &mut Core, item: &str) {
    if item.starts_with("course:") {
        open_course(ui, c, item);
        return;
    }
    // A lesson: open its course, then the lesson.
    if !item.starts_with("lesson:") {
        return;
    }
    let course = logged("lesson place", c.t().library().lesson_place(item));
    if let Some((course, pos)) = course {
        open_course(ui, c, &course);
        open_lesson(ui, c, &course, pos as usize);
    }
}
