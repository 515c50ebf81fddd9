//! The device side of input (feature `device`): open `/dev/input/event*`,
//! classify each device from its capability bits, grab the touchscreen,
//! buttons and dock switch exclusively, ignore everything else, and feed
//! each device's raw events through the same [`Translator`] the tests use.

use std::path::PathBuf;

use evdev::PropType;
use evdev::raw_stream::RawDevice;

use super::input::{
    ABS_MT_POSITION_X, ABS_MT_POSITION_Y, Calibration, Capabilities, DeviceClass, RawEvent,
    Rotation, Translator, UiEvent, classify,
};

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

/// The panel's raw range, from the device's own axis information.
fn calibration(dev: &RawDevice, rotation: Rotation, width: f32, height: f32) -> Calibration {
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (0, 4095, 0, 4095);
    if let Ok(state) = dev.get_abs_state() {
        let x = state[ABS_MT_POSITION_X as usize];
        let y = state[ABS_MT_POSITION_Y as usize];
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
        rotation,
        screen_width: width,
        screen_height: height,
    }
}

/// Open, classify and grab the allowed devices, and start one reader
/// thread for each. Returns what was opened and what was ignored.
pub fn spawn(
    rotation: Rotation,
    width: f32,
    height: f32,
    send: impl Fn(UiEvent) + Send + Clone + 'static,
) -> Vec<(PathBuf, String, DeviceClass)> {
    let mut seen = Vec::new();
    for (path, mut dev) in evdev::raw_stream::enumerate() {
        let caps = capabilities(&dev);
        let class = classify(&caps);
        seen.push((path.clone(), caps.name.clone(), class));
        if class == DeviceClass::Ignored {
            continue;
        }
        if let Err(e) = dev.grab() {
            tracing::warn!("{}: cannot grab {}: {e}", path.display(), caps.name);
            continue;
        }
        let cal = calibration(&dev, rotation, width, height);
        let send = send.clone();
        std::thread::spawn(move || {
            let mut t = Translator::new(class, cal);
            loop {
                match dev.fetch_events() {
                    Ok(events) => {
                        for e in events {
                            for ui in t.feed(RawEvent::new(e.event_type().0, e.code(), e.value())) {
                                send(ui);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::error!("{}: {e}; input from it stops", path.display());
                        return;
                    }
                }
            }
        });
    }
    seen
}
