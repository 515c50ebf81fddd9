//! Keys reach the UI only from the on-screen keyboard. They are sent to the
//! window as key events, so the focused text field edits as it would with a
//! real keyboard, which the tablet never reads.

use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, SharedString};

use super::AppWindow;

pub fn send_text(ui: &AppWindow, text: &str) {
    let text = SharedString::from(text);
    let w = ui.window();
    w.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    w.dispatch_event(WindowEvent::KeyReleased { text });
}

pub fn send_key(ui: &AppWindow, key: Key) {
    send_text(ui, &SharedString::from(key));
}
