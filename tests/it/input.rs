//! The evdev layer with recorded event streams (tests/input/*.bin, in the
//! kernel's input_event format) and the no-escape property.

use std::path::Path;

use berth::device::input::*;

fn recording(name: &str) -> Vec<RawEvent> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/input")
        .join(name);
    read_events(std::fs::File::open(p).unwrap()).unwrap()
}

fn cal() -> Calibration {
    Calibration {
        min_x: 0,
        max_x: 4095,
        min_y: 0,
        max_y: 4095,
        rotation: Rotation::R0,
        screen_width: 1280.0,
        screen_height: 800.0,
    }
}

fn run(class: DeviceClass, events: &[RawEvent]) -> Vec<UiEvent> {
    let mut t = Translator::new(class, cal());
    events.iter().flat_map(|e| t.feed(*e)).collect()
}

fn touchscreen() -> Capabilities {
    Capabilities {
        name: "Goodix Capacitive TouchScreen".into(),
        direct: true,
        keys: vec![BTN_TOUCH],
        abs: vec![
            ABS_X,
            ABS_Y,
            ABS_MT_SLOT,
            ABS_MT_POSITION_X,
            ABS_MT_POSITION_Y,
            ABS_MT_TRACKING_ID,
        ],
        switches: vec![],
    }
}

fn keyboard() -> Capabilities {
    Capabilities {
        name: "USB Keyboard".into(),
        keys: (1..=248).collect(),
        ..Default::default()
    }
}

#[test]
fn devices_are_classified_and_anything_else_is_ignored() {
    assert_eq!(classify(&touchscreen()), DeviceClass::Touchscreen);
    let buttons = Capabilities {
        name: "gpio-keys".into(),
        keys: vec![KEY_POWER, KEY_VOLUMEUP, KEY_VOLUMEDOWN],
        ..Default::default()
    };
    assert_eq!(classify(&buttons), DeviceClass::Buttons);
    let dock = Capabilities {
        name: "dock".into(),
        switches: vec![SW_DOCK],
        ..Default::default()
    };
    assert_eq!(classify(&dock), DeviceClass::DockSwitch);
    assert_eq!(classify(&keyboard()), DeviceClass::Ignored);
    let mouse = Capabilities {
        name: "mouse".into(),
        keys: vec![BTN_LEFT, 0x111, 0x112],
        ..Default::default()
    };
    assert_eq!(classify(&mouse), DeviceClass::Ignored);
    // A touchpad has the same axes as a touchscreen but is not direct.
    let touchpad = Capabilities {
        direct: false,
        keys: vec![BTN_TOUCH, BTN_LEFT],
        ..touchscreen()
    };
    assert_eq!(classify(&touchpad), DeviceClass::Ignored);
    // A "button" device that also has ordinary keys is a keyboard.
    let sneaky = Capabilities {
        keys: vec![KEY_POWER, 29, 56, 59],
        ..Default::default()
    };
    assert_eq!(classify(&sneaky), DeviceClass::Ignored);
}

#[test]
fn recorded_tap_becomes_press_and_release_at_the_mapped_point() {
    let out = run(DeviceClass::Touchscreen, &recording("tap.bin"));
    let (x, y) = cal().map(2048, 1024);
    assert_eq!(
        out,
        vec![
            UiEvent::PointerPressed { x, y },
            UiEvent::PointerReleased { x, y }
        ]
    );
    assert!((x - 640.0).abs() < 1.0 && (y - 200.0).abs() < 1.0);
}

#[test]
fn recorded_swipe_follows_the_first_finger_only() {
    let out = run(
        DeviceClass::Touchscreen,
        &recording("swipe-two-fingers.bin"),
    );
    assert!(matches!(out.first(), Some(UiEvent::PointerPressed { .. })));
    assert!(matches!(out.last(), Some(UiEvent::PointerReleased { .. })));
    let xs: Vec<f32> = out
        .iter()
        .filter_map(|e| match e {
            UiEvent::PointerMoved { x, .. } => Some(*x),
            _ => None,
        })
        .collect();
    assert!(
        xs.windows(2).all(|w| w[1] > w[0]),
        "moves only rightwards: {xs:?}"
    );
    assert_eq!(
        out.iter()
            .filter(|e| matches!(e, UiEvent::PointerPressed { .. }))
            .count(),
        1,
        "the second finger presses nothing"
    );
    let UiEvent::PointerReleased { x, .. } = out.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(*x, cal().map(3600, 0).0);
}

#[test]
fn recorded_buttons_give_power_and_volume() {
    let out = run(DeviceClass::Buttons, &recording("buttons.bin"));
    assert_eq!(
        out,
        vec![
            UiEvent::Power,
            UiEvent::VolumeUp,
            UiEvent::VolumeUp,
            UiEvent::VolumeDown
        ]
    );
}

/// Press and release `code` (with SYN) from a device.
fn press(code: u16) -> Vec<RawEvent> {
    vec![
        RawEvent::new(EV_KEY, code, 1),
        RawEvent::new(EV_SYN, SYN_REPORT, 0),
        RawEvent::new(EV_KEY, code, 0),
        RawEvent::new(EV_SYN, SYN_REPORT, 0),
    ]
}

fn combo(codes: &[u16]) -> Vec<RawEvent> {
    let mut v: Vec<RawEvent> = codes.iter().map(|c| RawEvent::new(EV_KEY, *c, 1)).collect();
    v.push(RawEvent::new(EV_SYN, SYN_REPORT, 0));
    v.extend(codes.iter().rev().map(|c| RawEvent::new(EV_KEY, *c, 0)));
    v.push(RawEvent::new(EV_SYN, SYN_REPORT, 0));
    v
}

#[test]
fn no_escape_every_key_code_and_every_escape_combo_does_nothing_but_the_buttons() {
    const LEFTCTRL: u16 = 29;
    const LEFTALT: u16 = 56;
    const TAB: u16 = 15;
    const DELETE: u16 = 111;
    const SYSRQ: u16 = 99;
    const LEFTMETA: u16 = 125;
    const F1: u16 = 59;
    let mut combos: Vec<Vec<u16>> = (0..10).map(|i| vec![LEFTCTRL, LEFTALT, F1 + i]).collect();
    combos.push(vec![LEFTCTRL, LEFTALT, 87]); // F11
    combos.push(vec![LEFTCTRL, LEFTALT, 88]); // F12
    combos.extend([
        vec![LEFTCTRL, LEFTALT, DELETE],
        vec![LEFTALT, TAB],
        vec![LEFTMETA],
        vec![LEFTALT, SYSRQ, 30],
        vec![SYSRQ],
    ]);
    // From a keyboard and from the touchscreen: nothing, for every code.
    for class in [classify(&keyboard()), DeviceClass::Touchscreen] {
        for code in 0..=KEY_MAX {
            if code == BTN_TOUCH {
                continue;
            }
            assert!(
                run(class, &press(code)).is_empty(),
                "{class:?} key {code} did something"
            );
        }
        for c in &combos {
            assert!(run(class, &combo(c)).is_empty(), "{class:?} combo {c:?}");
        }
    }
    // From the buttons device: only the defined actions.
    for code in 0..=KEY_MAX {
        let out = run(DeviceClass::Buttons, &press(code));
        let expected = match code {
            KEY_POWER => vec![UiEvent::Power],
            KEY_VOLUMEUP => vec![UiEvent::VolumeUp],
            KEY_VOLUMEDOWN => vec![UiEvent::VolumeDown],
            _ => vec![],
        };
        assert_eq!(out, expected, "buttons key {code}");
    }
    for c in &combos {
        assert!(
            run(DeviceClass::Buttons, &combo(c)).is_empty(),
            "buttons combo {c:?}"
        );
    }
    // The dock switch reports docking and nothing else.
    assert_eq!(
        run(DeviceClass::DockSwitch, &[RawEvent::new(EV_SW, SW_DOCK, 1)]),
        vec![UiEvent::Docked(true)]
    );
    assert!(run(DeviceClass::DockSwitch, &press(KEY_POWER)).is_empty());
}
