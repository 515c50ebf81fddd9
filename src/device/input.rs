//! Input from the kernel's evdev devices, as pure functions.
//!
//! The tablet reads `/dev/input/event*` itself (no libinput). This module
//! holds everything that does not touch a device node:
//! - [`read_events`] parses the kernel's `struct input_event` records from
//!   any reader, so a recorded file and a device node go through the same
//!   code;
//! - [`classify`] decides from a device's capabilities whether it is the
//!   touchscreen, the tablet's buttons, the dock switch, or something to
//!   ignore (keyboards, mice, touchpads, anything plugged in);
//! - [`Translator`] turns one device's events into [`UiEvent`]s, mapping
//!   touch coordinates through calibration and rotation.
//!
//! Architecture invariant: a device classified as ignored produces no
//! event at all, and the buttons device produces only power and volume.

use std::io::{self, Read};

pub const EV_SYN: u16 = 0x00;
pub const EV_KEY: u16 = 0x01;
pub const EV_ABS: u16 = 0x03;
pub const EV_SW: u16 = 0x05;
pub const SYN_REPORT: u16 = 0;
pub const ABS_X: u16 = 0x00;
pub const ABS_Y: u16 = 0x01;
pub const ABS_MT_SLOT: u16 = 0x2f;
pub const ABS_MT_POSITION_X: u16 = 0x35;
pub const ABS_MT_POSITION_Y: u16 = 0x36;
pub const ABS_MT_TRACKING_ID: u16 = 0x39;
pub const BTN_LEFT: u16 = 0x110;
pub const BTN_TOUCH: u16 = 0x14a;
pub const KEY_VOLUMEDOWN: u16 = 114;
pub const KEY_VOLUMEUP: u16 = 115;
pub const KEY_POWER: u16 = 116;
pub const KEY_MAX: u16 = 0x2ff;
pub const SW_DOCK: u16 = 0x05;

/// Size of `struct input_event` on 64-bit Linux: a 16-byte timeval, then
/// type (u16), code (u16), value (i32).
pub const EVENT_SIZE: usize = 24;

/// One kernel input event (the timestamp is not needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEvent {
    pub kind: u16,
    pub code: u16,
    pub value: i32,
}

impl RawEvent {
    pub fn new(kind: u16, code: u16, value: i32) -> Self {
        RawEvent { kind, code, value }
    }

    /// Encode as the kernel does (timestamp zero): for recordings.
    pub fn to_bytes(self) -> [u8; EVENT_SIZE] {
        let mut b = [0u8; EVENT_SIZE];
        b[16..18].copy_from_slice(&self.kind.to_le_bytes());
        b[18..20].copy_from_slice(&self.code.to_le_bytes());
        b[20..24].copy_from_slice(&self.value.to_le_bytes());
        b
    }
}

/// Read every whole event from a reader (a recording or a device node).
/// A trailing partial record is an error: the stream was cut.
pub fn read_events(mut r: impl Read) -> io::Result<Vec<RawEvent>> {
    let mut out = Vec::new();
    let mut rec = [0u8; EVENT_SIZE];
    loop {
        let mut filled = 0;
        while filled < EVENT_SIZE {
            let n = r.read(&mut rec[filled..])?;
            if n == 0 {
                return if filled == 0 {
                    Ok(out)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "partial input_event record",
                    ))
                };
            }
            filled += n;
        }
        out.push(RawEvent {
            kind: u16::from_le_bytes([rec[16], rec[17]]),
            code: u16::from_le_bytes([rec[18], rec[19]]),
            value: i32::from_le_bytes([rec[20], rec[21], rec[22], rec[23]]),
        });
    }
}

/// What a device can report, as read from its capability bits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub name: String,
    /// INPUT_PROP_DIRECT: the device is on the screen (a touchscreen, not a touchpad).
    pub direct: bool,
    pub keys: Vec<u16>,
    pub abs: Vec<u16>,
    pub switches: Vec<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceClass {
    Touchscreen,
    /// A single-touch panel: ABS_X/ABS_Y with BTN_TOUCH (resistive
    /// panels), or a device the board profile names that reports
    /// BTN_LEFT instead (qemu's USB tablet).
    SingleTouch,
    /// Power and volume keys, nothing else.
    Buttons,
    /// Reports SW_DOCK.
    DockSwitch,
    /// Keyboards, mice, touchpads, game pads, anything unknown.
    Ignored,
}

const BUTTON_KEYS: [u16; 3] = [KEY_POWER, KEY_VOLUMEUP, KEY_VOLUMEDOWN];

/// Classify with the board's quirks: a device the board names as a touch
/// panel is single-touch if it is an absolute pointer (ABS_X, ABS_Y and
/// BTN_LEFT or BTN_TOUCH); everything else as [`classify`] says.
pub fn classify_on(c: &Capabilities, board: &super::board::Board) -> DeviceClass {
    let absolute = c.abs.contains(&ABS_X) && c.abs.contains(&ABS_Y);
    if board.names_touch_panel(&c.name)
        && absolute
        && (c.keys.contains(&BTN_LEFT) || c.keys.contains(&BTN_TOUCH))
    {
        return DeviceClass::SingleTouch;
    }
    classify(c)
}

pub fn classify(c: &Capabilities) -> DeviceClass {
    let has_abs = |a| c.abs.contains(&a);
    let touch_keys_only = c
        .keys
        .iter()
        .all(|k| *k == BTN_TOUCH || (0x140..0x150).contains(k) && *k != BTN_LEFT);
    if c.direct && has_abs(ABS_MT_POSITION_X) && has_abs(ABS_MT_POSITION_Y) && touch_keys_only {
        return DeviceClass::Touchscreen;
    }
    // A resistive single-touch screen: on the screen, X and Y, BTN_TOUCH,
    // and no other keys.
    if c.direct
        && has_abs(ABS_X)
        && has_abs(ABS_Y)
        && !has_abs(ABS_MT_POSITION_X)
        && c.keys.contains(&BTN_TOUCH)
        && touch_keys_only
    {
        return DeviceClass::SingleTouch;
    }
    if !c.keys.is_empty() && c.keys.iter().all(|k| BUTTON_KEYS.contains(k)) && c.abs.is_empty() {
        return DeviceClass::Buttons;
    }
    if c.keys.is_empty() && c.abs.is_empty() && c.switches.contains(&SW_DOCK) {
        return DeviceClass::DockSwitch;
    }
    DeviceClass::Ignored
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    R0,
    R90,
    R180,
    R270,
}

/// Maps raw touch coordinates to screen pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    pub min_x: i32,
    pub max_x: i32,
    pub min_y: i32,
    pub max_y: i32,
    /// How the panel is mounted relative to the screen.
    pub rotation: Rotation,
    pub screen_width: f32,
    pub screen_height: f32,
}

impl Calibration {
    /// Screen position of a raw point, clamped to the screen.
    pub fn map(&self, x: i32, y: i32) -> (f32, f32) {
        let nx =
            ((x - self.min_x) as f32 / (self.max_x - self.min_x).max(1) as f32).clamp(0.0, 1.0);
        let ny =
            ((y - self.min_y) as f32 / (self.max_y - self.min_y).max(1) as f32).clamp(0.0, 1.0);
        let (u, v) = match self.rotation {
            Rotation::R0 => (nx, ny),
            Rotation::R90 => (1.0 - ny, nx),
            Rotation::R180 => (1.0 - nx, 1.0 - ny),
            Rotation::R270 => (ny, 1.0 - nx),
        };
        (u * self.screen_width, v * self.screen_height)
    }
}

/// What the shell receives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UiEvent {
    PointerPressed { x: f32, y: f32 },
    PointerMoved { x: f32, y: f32 },
    PointerReleased { x: f32, y: f32 },
    Power,
    VolumeUp,
    VolumeDown,
    Docked(bool),
}

/// Turns one device's event stream into UI events. Touch is single-pointer:
/// the first finger down drives the pointer until it lifts.
pub struct Translator {
    class: DeviceClass,
    cal: Calibration,
    slot: i32,
    /// Slot of the finger that drives the pointer.
    active_slot: Option<i32>,
    raw: (i32, i32),
    down: bool,
    changed: bool,
    lifted: bool,
    pressed: bool,
}

impl Translator {
    pub fn new(class: DeviceClass, cal: Calibration) -> Self {
        Translator {
            class,
            cal,
            slot: 0,
            active_slot: None,
            raw: (0, 0),
            down: false,
            changed: false,
            lifted: false,
            pressed: false,
        }
    }

    pub fn feed(&mut self, ev: RawEvent) -> Vec<UiEvent> {
        match self.class {
            DeviceClass::Ignored => Vec::new(),
            DeviceClass::Buttons => self.button(ev).into_iter().collect(),
            DeviceClass::DockSwitch => match (ev.kind, ev.code) {
                (EV_SW, SW_DOCK) => vec![UiEvent::Docked(ev.value != 0)],
                _ => Vec::new(),
            },
            DeviceClass::Touchscreen => self.touch(ev),
            DeviceClass::SingleTouch => self.single_touch(ev),
        }
    }

    /// One contact: X and Y, and a button (BTN_TOUCH, or BTN_LEFT on a
    /// panel the board names) that is down while it touches. Other
    /// buttons (right, middle) and wheels do nothing.
    fn single_touch(&mut self, ev: RawEvent) -> Vec<UiEvent> {
        match (ev.kind, ev.code) {
            (EV_ABS, ABS_X) => {
                self.raw.0 = ev.value;
                self.changed = true;
            }
            (EV_ABS, ABS_Y) => {
                self.raw.1 = ev.value;
                self.changed = true;
            }
            (EV_KEY, BTN_TOUCH | BTN_LEFT) => match ev.value {
                1 if !self.down => self.pressed = true,
                0 if self.down => self.lifted = true,
                _ => {}
            },
            (EV_SYN, SYN_REPORT) => return self.report(),
            _ => {}
        }
        Vec::new()
    }

    fn button(&self, ev: RawEvent) -> Option<UiEvent> {
        // Press (1) and auto-repeat (2) count; release (0) does not.
        if ev.kind != EV_KEY || ev.value == 0 {
            return None;
        }
        match ev.code {
            KEY_POWER if ev.value == 1 => Some(UiEvent::Power),
            KEY_VOLUMEUP => Some(UiEvent::VolumeUp),
            KEY_VOLUMEDOWN => Some(UiEvent::VolumeDown),
            _ => None,
        }
    }

    fn touch(&mut self, ev: RawEvent) -> Vec<UiEvent> {
        match (ev.kind, ev.code) {
            (EV_ABS, ABS_MT_SLOT) => self.slot = ev.value,
            (EV_ABS, ABS_MT_TRACKING_ID) => {
                if ev.value >= 0 {
                    if self.active_slot.is_none() {
                        self.active_slot = Some(self.slot);
                        self.pressed = true;
                    }
                } else if self.active_slot == Some(self.slot) {
                    self.active_slot = None;
                    self.lifted = true;
                }
            }
            (EV_ABS, ABS_MT_POSITION_X)
                if self.active_slot == Some(self.slot) || self.active_slot.is_none() =>
            {
                self.raw.0 = ev.value;
                self.changed = true;
            }
            (EV_ABS, ABS_MT_POSITION_Y)
                if self.active_slot == Some(self.slot) || self.active_slot.is_none() =>
            {
                self.raw.1 = ev.value;
                self.changed = true;
            }
            (EV_SYN, SYN_REPORT) => return self.report(),
            _ => {}
        }
        Vec::new()
    }

    fn report(&mut self) -> Vec<UiEvent> {
        let (x, y) = self.cal.map(self.raw.0, self.raw.1);
        let mut out = Vec::new();
        if self.pressed && !self.down {
            self.down = true;
            out.push(UiEvent::PointerPressed { x, y });
        } else if self.changed && self.down && !self.lifted {
            out.push(UiEvent::PointerMoved { x, y });
        }
        if self.lifted && self.down {
            self.down = false;
            out.push(UiEvent::PointerReleased { x, y });
        }
        self.pressed = false;
        self.lifted = false;
        self.changed = false;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(rotation: Rotation) -> Calibration {
        Calibration {
            min_x: 0,
            max_x: 4095,
            min_y: 0,
            max_y: 4095,
            rotation,
            screen_width: 1280.0,
            screen_height: 800.0,
        }
    }

    #[test]
    fn rotation_maps_corners() {
        let c = cal(Rotation::R0);
        assert_eq!(c.map(0, 0), (0.0, 0.0));
        assert_eq!(c.map(4095, 4095), (1280.0, 800.0));
        assert_eq!(cal(Rotation::R180).map(0, 0), (1280.0, 800.0));
        assert_eq!(cal(Rotation::R90).map(0, 0), (1280.0, 0.0));
        assert_eq!(cal(Rotation::R270).map(0, 0), (0.0, 800.0));
        assert_eq!(c.map(-50, 9000), (0.0, 800.0), "clamped");
    }

    fn caps(name: &str, direct: bool, keys: &[u16], abs: &[u16]) -> Capabilities {
        Capabilities {
            name: name.into(),
            direct,
            keys: keys.to_vec(),
            abs: abs.to_vec(),
            switches: vec![],
        }
    }

    #[test]
    fn single_touch_panels_are_read_and_a_named_absolute_pointer_only_on_its_board() {
        const BTN_RIGHT: u16 = 0x111;
        const BTN_MIDDLE: u16 = 0x112;
        const KEY_A: u16 = 30;
        let resistive = caps(
            "ADS7846 Touchscreen",
            true,
            &[BTN_TOUCH],
            &[ABS_X, ABS_Y, 0x18],
        );
        assert_eq!(classify(&resistive), DeviceClass::SingleTouch);
        let qemu = caps(
            "QEMU QEMU USB Tablet",
            false,
            &[BTN_LEFT, BTN_RIGHT, BTN_MIDDLE],
            &[ABS_X, ABS_Y],
        );
        let board = super::super::board::Board {
            touch_panels: vec![super::super::board::TouchPanel {
                name: "QEMU QEMU USB Tablet".into(),
            }],
            ..Default::default()
        };
        assert_eq!(
            classify(&qemu),
            DeviceClass::Ignored,
            "not without the board"
        );
        assert_eq!(classify_on(&qemu, &board), DeviceClass::SingleTouch);
        assert_eq!(
            classify_on(&qemu, &Default::default()),
            DeviceClass::Ignored
        );
        // The board names a device, but a keyboard with that name is
        // still no touch panel.
        let impostor = caps("QEMU QEMU USB Tablet", false, &[KEY_A], &[]);
        assert_eq!(classify_on(&impostor, &board), DeviceClass::Ignored);
        let mouse = caps("QEMU QEMU USB Mouse", false, &[BTN_LEFT, BTN_RIGHT], &[]);
        assert_eq!(classify_on(&mouse, &board), DeviceClass::Ignored);
    }

    #[test]
    fn a_single_touch_tap_is_one_press_and_one_release_at_the_mapped_point() {
        let mut c = cal(Rotation::R0);
        c.max_x = 32767;
        c.max_y = 32767;
        let mut t = Translator::new(DeviceClass::SingleTouch, c);
        let mut out = Vec::new();
        for e in [
            RawEvent::new(EV_ABS, ABS_X, 16384),
            RawEvent::new(EV_ABS, ABS_Y, 8192),
            RawEvent::new(EV_SYN, SYN_REPORT, 0),
            RawEvent::new(EV_KEY, BTN_LEFT, 1),
            RawEvent::new(EV_SYN, SYN_REPORT, 0),
            RawEvent::new(EV_KEY, 0x111, 1), // BTN_RIGHT: nothing
            RawEvent::new(EV_SYN, SYN_REPORT, 0),
            RawEvent::new(EV_KEY, BTN_LEFT, 0),
            RawEvent::new(EV_SYN, SYN_REPORT, 0),
        ] {
            out.extend(t.feed(e));
        }
        let (x, y) = (16384.0 / 32767.0 * 1280.0, 8192.0 / 32767.0 * 800.0);
        assert_eq!(
            out,
            vec![
                UiEvent::PointerPressed { x, y },
                UiEvent::PointerReleased { x, y }
            ]
        );
    }

    #[test]
    fn read_events_round_trips_and_refuses_partial_records() {
        let evs = [
            RawEvent::new(EV_KEY, KEY_POWER, 1),
            RawEvent::new(EV_SYN, SYN_REPORT, 0),
        ];
        let bytes: Vec<u8> = evs.iter().flat_map(|e| e.to_bytes()).collect();
        assert_eq!(read_events(&bytes[..]).unwrap(), evs);
        assert!(read_events(&bytes[..30]).is_err());
    }
}
