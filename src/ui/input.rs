//! Hardware input into the shell: touch as pointer events on the window,
//! the power button, the volume keys and the dock switch.

use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition};

use super::Shell;
use crate::device::input::UiEvent;

pub fn dispatch(shell: &Shell, ev: UiEvent) {
    let w = shell.window().window();
    let scale = w.scale_factor();
    let pos = |x: f32, y: f32| LogicalPosition::new(x / scale, y / scale);
    match ev {
        UiEvent::PointerPressed { x, y } => w.dispatch_event(WindowEvent::PointerPressed {
            position: pos(x, y),
            button: PointerEventButton::Left,
        }),
        UiEvent::PointerMoved { x, y } => w.dispatch_event(WindowEvent::PointerMoved {
            position: pos(x, y),
        }),
        UiEvent::PointerReleased { x, y } => {
            w.dispatch_event(WindowEvent::PointerReleased {
                position: pos(x, y),
                button: PointerEventButton::Left,
            });
            w.dispatch_event(WindowEvent::PointerExited);
        }
        UiEvent::Power => shell.power_button(),
        UiEvent::VolumeUp => shell.volume(1),
        UiEvent::VolumeDown => shell.volume(-1),
        UiEvent::Docked(on) => shell.set_docked(Some(on)),
    }
}

/// Start reading the tablet's own input devices (feature `device`) and
/// deliver their events to `shell` on the UI thread.
#[cfg(feature = "device")]
pub fn attach_devices(shell: std::rc::Rc<Shell>, rotation: crate::device::input::Rotation) {
    use std::cell::RefCell;
    use std::rc::Rc;
    thread_local! {
        static SHELL: RefCell<Option<Rc<Shell>>> = const { RefCell::new(None) };
    }
    SHELL.with(|s| *s.borrow_mut() = Some(shell));
    let (w, h) = (
        super::headless::WIDTH as f32,
        super::headless::HEIGHT as f32,
    );
    let devices = crate::device::evdev_devices::spawn(rotation, w, h, |ev| {
        let _ = slint::invoke_from_event_loop(move || {
            SHELL.with(|s| {
                if let Some(shell) = &*s.borrow() {
                    dispatch(shell, ev);
                }
            })
        });
    });
    for (path, name, class) in devices {
        tracing::info!("input {}: {name:?} is {class:?}", path.display());
    }
}
