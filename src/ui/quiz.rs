//! A quiz being taken: the question on show and the answers chosen. Pure:
//! the Learn page shows it and records the answers when the last question
//! is done; its tests need no window or tablet.

use crate::domain::content::{QuestionKind, QuizDoc};

pub struct QuizRun {
    pub course: String,
    pub unit: usize,
    pub doc: QuizDoc,
    q: usize,
    answers: Vec<Vec<usize>>,
}

/// What "Next" did.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing is chosen yet: stay.
    Stay,
    Question,
    /// The last question is answered: these are the answers to record.
    Done(Vec<Vec<usize>>),
}

impl QuizRun {
    pub fn new(course: &str, unit: usize, doc: QuizDoc) -> Self {
        let n = doc.questions.len();
        QuizRun {
            course: course.to_string(),
            unit,
            doc,
            q: 0,
            answers: vec![Vec::new(); n],
        }
    }

    /// The question on show, from 0, and how many there are.
    pub fn position(&self) -> (usize, usize) {
        (self.q, self.doc.questions.len())
    }

    pub fn multiple(&self) -> bool {
        self.doc.questions[self.q].kind == QuestionKind::Multiple
    }

    pub fn chosen(&self, choice: usize) -> bool {
        self.answers[self.q].contains(&choice)
    }

    pub fn can_next(&self) -> bool {
        !self.answers[self.q].is_empty()
    }

    pub fn last(&self) -> bool {
        self.q + 1 == self.doc.questions.len()
    }

    /// A tap on a choice: one choice replaces another, unless the question
    /// takes several, where a tap turns a choice on or off.
    pub fn choose(&mut self, choice: usize) {
        let multiple = self.multiple();
        let a = &mut self.answers[self.q];
        if multiple {
            if let Some(p) = a.iter().position(|x| *x == choice) {
                a.remove(p);
            } else {
                a.push(choice);
            }
        } else {
            *a = vec![choice];
        }
    }

    pub fn next(&mut self) -> Next {
        if !self.can_next() {
            return Next::Stay;
        }
        if self.q + 1 < self.doc.questions.len() {
            self.q += 1;
            return Next::Question;
        }
        Next::Done(self.answers.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> QuizDoc {
        serde_json::from_str(
            r#"{
              "pass_mark": 2,
              "questions": [
                {"kind": "single", "prompt": {"en": "1?"}, "choices": [{"en": "a"}, {"en": "b"}],
                 "answer": [1], "explanation": {"en": "b"}},
                {"kind": "multiple", "prompt": {"en": "2?"}, "choices": [{"en": "a"}, {"en": "b"}, {"en": "c"}],
                 "answer": [0, 2], "explanation": {"en": "a c"}}
              ]
            }"#,
        )
        .unwrap()
    }

    #[test]
    fn one_choice_replaces_another_and_next_waits_for_one() {
        let mut q = QuizRun::new("c", 0, doc());
        assert_eq!(q.next(), Next::Stay);
        q.choose(0);
        q.choose(1);
        assert!(q.chosen(1) && !q.chosen(0));
        assert_eq!(q.next(), Next::Question);
        assert_eq!(q.position(), (1, 2));
    }

    #[test]
    fn several_choices_toggle_and_the_last_next_gives_the_answers() {
        let mut q = QuizRun::new("c", 0, doc());
        q.choose(1);
        q.next();
        assert!(q.multiple() && q.last());
        q.choose(0);
        q.choose(2);
        q.choose(1);
        q.choose(1);
        assert_eq!(q.next(), Next::Done(vec![vec![1], vec![0, 2]]));
    }
}
