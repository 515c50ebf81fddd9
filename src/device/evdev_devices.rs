//! The device side of input (feature `device`): open `/dev/input/event*`,
//! classify each device from its capability bits and the board profile,
//! and grab every device exclusively. The touchscreen, buttons and dock
//! switch feed their raw events through the same [`Translator`] the tests
//! use; every other device (a keyboard, a mouse, anything plugged in) is
//! grabbed too and its events are dropped, so neither the kernel's console
//! (VT switching, SysRq, ctrl-alt-del) nor any other reader sees them.
//! New devices are picked up by a rescan every [`RESCAN`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evdev::PropType;
use evdev::raw_stream::RawDevice;

use super::board::Board;
use super::input::{
    ABS_MT_POSITION_X, ABS_MT_POSITION_Y, ABS_X, ABS_Y, Calibration, Capabilities, DeviceClass,
    RawEvent, Translator, UiEvent, classify_on,
};

/// How often the device list is read again for hot-plugged devices.
pub const RESCAN: Duration = Duration::from_secs(2);

fn capabilities(dev: &RawDevice) -> Capabilities {
    Capabilities {
        name: dev.name().unwrap_or("").to_string(),
        direct: dev.properties().contains(PropType::DIRECT),
        keys: dev
            .supported_keys()
            .map(|s| s.iter().map(|k| k.code()).collect())
            .unwrap_or_default(),
        abs: dev
            .supported_absolute_axes()
            .map(|s| s.iter().map(|a| a.0).collect())
            .unwrap_or_default(),
        switches: dev
            .supported_switches()
            .map(|s| s.iter().map(|w| w.0).collect())
            .unwrap_or_default(),
    }
}

/// The panel's raw range, from the device's own axis information, mapped
/// to the unit square (the window scales it to its size).
fn calibration(dev: &RawDevice, class: DeviceClass, board: &Board) -> Calibration {
    let (ax, ay) = match class {
        DeviceClass::SingleTouch => (ABS_X, ABS_Y),
        _ => (ABS_MT_POSITION_X, ABS_MT_POSITION_Y),
    };
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (0, 4095, 0, 4095);
    if let Ok(state) = dev.get_abs_state() {
        let x = state[ax as usize];
        let y = state[ay as usize];
        if x.maximum > x.minimum {
            (min_x, max_x) = (x.minimum, x.maximum);
        }
        if y.maximum > y.minimum {
            (min_y, max_y) = (y.minimum, y.maximum);
        }
    }
    Calibration {
        min_x,
        max_x,
        min_y,
        max_y,
        rotation: board.rotation,
        screen_width: 1.0,
        screen_height: 1.0,
    }
}

/// One device seen: where, its name, and what it was taken for.
pub type Seen = (PathBuf, String, DeviceClass);

/// Open, classify and grab the devices there are now and every one that
/// appears later, each read by its own thread. `send` gets touch
/// positions in the unit square. `seen` reports each new device once.
pub fn spawn(
    board: Board,
    send: impl Fn(UiEvent) + Send + Sync + Clone + 'static,
    seen: impl Fn(Seen) + Send + 'static,
) {
    let open: Arc<Mutex<BTreeSet<PathBuf>>> = Arc::default();
    std::thread::spawn(move || {
        loop {
            for (path, mut dev) in evdev::raw_stream::enumerate() {
                {
                    let mut open = open.lock().unwrap_or_else(|p| p.into_inner());
                    if !open.insert(path.clone()) {
                        continue;
                    }
                }
                let caps = capabilities(&dev);
                let class = classify_on(&caps, &board);
                seen((path.clone(), caps.name.clone(), class));
                if let Err(e) = dev.grab() {
                    tracing::warn!("{}: cannot grab {}: {e}", path.display(), caps.name);
                }
                let cal = calibration(&dev, class, &board);
                let send = send.clone();
                let open = open.clone();
                std::thread::spawn(move || {
                    // An ignored device is held and drained: its events go
                    // nowhere.
                    let mut t = Translator::new(class, cal);
                    loop {
                        match dev.fetch_events() {
                            Ok(events) => {
                                for e in events {
                                    let raw = RawEvent::new(e.event_type().0, e.code(), e.value());
                                    for ui in t.feed(raw) {
                                        send(ui);
                                    }
                                }
                            }
                            Err(e) => {
                                tracing::info!("{}: {e}; it is gone", path.display());
                                open.lock().unwrap_or_else(|p| p.into_inner()).remove(&path);
                                return;
                            }
                        }
                    }
                });
            }
            std::thread::sleep(RESCAN);
        }
    });
}
