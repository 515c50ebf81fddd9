//! Personal settings (language, large text, high contrast): a controller
//! over a narrow service that needs no window, and `apply`, the one place
//! the settings reach the theme, the keyboard and the pages.

use slint::ComponentHandle;

use super::{AppWindow, KeyboardAdapter, LockAdapter, SettingsAdapter, Theme, set_language};
use crate::domain::people::PersonalSettings;
use crate::tablet::{CoreError, Session, Tablet};

/// What the settings page needs of the tablet, for the person signed in.
pub trait SettingsService {
    fn load(&self) -> Result<PersonalSettings, CoreError>;
    fn save(&self, s: &PersonalSettings) -> Result<(), CoreError>;
}

/// Change one setting and keep it. A setting that cannot be read starts
/// from the defaults; one that cannot be saved still applies now, and the
/// failure is logged.
pub fn change(
    svc: &impl SettingsService,
    f: impl FnOnce(&mut PersonalSettings),
) -> PersonalSettings {
    let mut s = svc
        .load()
        .map_err(|e| tracing::error!("reading settings: {e}"))
        .unwrap_or_default();
    f(&mut s);
    if let Err(e) = svc.save(&s) {
        tracing::error!("saving settings: {e}");
    }
    s
}

/// The language shown: the person's choice, else `fallback` (the roster's).
pub fn language<'a>(s: &'a PersonalSettings, fallback: &'a str) -> &'a str {
    s.language.as_deref().unwrap_or(fallback)
}

/// Apply settings everywhere they show.
pub fn apply(ui: &AppWindow, s: &PersonalSettings, fallback_language: &str) {
    let lang = language(s, fallback_language);
    set_language(lang);
    ui.global::<KeyboardAdapter>().set_layout(lang.into());
    ui.global::<LockAdapter>().set_language(lang.into());
    ui.global::<LockAdapter>().set_large_text(s.large_text);
    let sg = ui.global::<SettingsAdapter>();
    sg.set_language(lang.into());
    sg.set_large_text(s.large_text);
    sg.set_high_contrast(s.high_contrast);
    let theme = ui.global::<Theme>();
    theme.set_large_text(s.large_text);
    theme.set_high_contrast(s.high_contrast);
}

/// The tablet's settings for one person.
pub struct SessionSettings<'a> {
    pub tablet: &'a std::sync::Mutex<Tablet>,
    pub session: &'a Session,
}

impl SettingsService for SessionSettings<'_> {
    fn load(&self) -> Result<PersonalSettings, CoreError> {
        let mut t = self.tablet.lock().unwrap_or_else(|p| p.into_inner());
        t.people().settings_for(self.session.person())
    }
    fn save(&self, s: &PersonalSettings) -> Result<(), CoreError> {
        let mut t = self.tablet.lock().unwrap_or_else(|p| p.into_inner());
        t.people().save_settings(self.session, s)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default)]
    struct Memory {
        saved: RefCell<Option<PersonalSettings>>,
        fail_save: bool,
    }

    impl SettingsService for Memory {
        fn load(&self) -> Result<PersonalSettings, CoreError> {
            Ok(self.saved.borrow().clone().unwrap_or_default())
        }
        fn save(&self, s: &PersonalSettings) -> Result<(), CoreError> {
            if self.fail_save {
                return Err(crate::tablet::Refusal::LeftRoster.into());
            }
            *self.saved.borrow_mut() = Some(s.clone());
            Ok(())
        }
    }

    #[test]
    fn a_change_is_kept_and_the_others_stay() {
        let m = Memory::default();
        change(&m, |s| s.large_text = true);
        let s = change(&m, |s| s.language = Some("es".into()));
        assert!(s.large_text, "the earlier change stays");
        assert_eq!(m.saved.borrow().as_ref(), Some(&s));
        assert_eq!(language(&s, "en"), "es");
        assert_eq!(language(&PersonalSettings::default(), "en"), "en");
    }

    #[test]
    fn a_failed_save_still_applies_now() {
        let m = Memory {
            fail_save: true,
            ..Memory::default()
        };
        let s = change(&m, |s| s.high_contrast = true);
        assert!(s.high_contrast);
        assert!(m.saved.borrow().is_none());
    }
}
