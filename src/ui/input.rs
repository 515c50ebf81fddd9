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
/// deliver their events to `shell` on the UI thread. Touch arrives in the
/// unit square and is scaled to the window's size here.
#[cfg(feature = "device")]
pub fn attach_devices(shell: std::rc::Rc<Shell>, board: crate::device::board::Board) {
    use std::cell::RefCell;
    use std::rc::Rc;
    thread_local! {
        static SHELL: RefCell<Option<Rc<Shell>>> = const { RefCell::new(None) };
    }
    SHELL.with(|s| *s.borrow_mut() = Some(shell));
    let scaled = |ev: UiEvent, w: f32, h: f32| match ev {
        UiEvent::PointerPressed { x, y } => UiEvent::PointerPressed { x: x * w, y: y * h },
        UiEvent::PointerMoved { x, y } => UiEvent::PointerMoved { x: x * w, y: y * h },
        UiEvent::PointerReleased { x, y } => UiEvent::PointerReleased { x: x * w, y: y * h },
        other => other,
    };
    crate::device::evdev_devices::spawn(
        board,
        move |ev| {
            let _ = slint::invoke_from_event_loop(move || {
                SHELL.with(|s| {
                    if let Some(shell) = &*s.borrow() {
                        let size = shell.window().window().size();
                        dispatch(shell, scaled(ev, size.width as f32, size.height as f32));
                    }
                })
            });
        },
        |(path, name, class)| tracing::info!("input {}: {name:?} is {class:?}", path.display()),
    );
}
