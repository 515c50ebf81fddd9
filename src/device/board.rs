//! The board profile: what a tablet model's hardware is, read from a small
//! TOML file that is part of the (read-only) firmware image, so the shell
//! never guesses.
//!
//! - `dock`: how the shell knows it sits in the dock: the kernel's dock
//!   switch (`switch`), external power (`power`, the default), or
//!   `always` for a board wired to the dock link (our qemu reference
//!   board has neither a switch nor a charger).
//! - `rotation`: how the panel is mounted (0, 90, 180 or 270).
//! - `[[touch_panel]]`: single-touch panels named by the kernel's device
//!   name that report a button (`BTN_LEFT`) rather than `BTN_TOUCH`, such
//!   as qemu's USB tablet or some resistive controllers. Multi-touch
//!   screens and `BTN_TOUCH` single-touch screens need no entry: their
//!   capability bits say what they are. Anything else stays ignored.

use serde::Deserialize;

use super::input::Rotation;

/// Longest board file read (it is a few lines).
pub const MAX_BOARD_BYTES: u64 = 16 * 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DockSense {
    /// SW_DOCK from the dock switch.
    Switch,
    /// External power: the dock charges the tablet.
    #[default]
    Power,
    /// Always docked: the board is wired to the dock link.
    Always,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TouchPanel {
    /// The kernel's name for the device, exactly.
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardFile {
    model: String,
    #[serde(default)]
    dock: DockSense,
    #[serde(default)]
    rotation: u16,
    #[serde(default)]
    touch_panel: Vec<TouchPanel>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Board {
    pub model: String,
    pub dock: DockSense,
    pub rotation: Rotation,
    pub touch_panels: Vec<TouchPanel>,
}

impl Default for Board {
    /// A tablet with a multi-touch screen, a charger dock and no quirks.
    fn default() -> Self {
        Board {
            model: "tablet".into(),
            dock: DockSense::Power,
            rotation: Rotation::R0,
            touch_panels: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("board profile: {0}")]
pub struct BoardError(String);

impl Board {
    pub fn parse(text: &str) -> Result<Board, BoardError> {
        let f: BoardFile = toml::from_str(text).map_err(|e| BoardError(e.to_string()))?;
        let rotation = match f.rotation {
            0 => Rotation::R0,
            90 => Rotation::R90,
            180 => Rotation::R180,
            270 => Rotation::R270,
            r => {
                return Err(BoardError(format!(
                    "rotation {r} is not one of 0, 90, 180, 270"
                )));
            }
        };
        if f.model.is_empty() || f.model.len() > 64 {
            return Err(BoardError("model must be 1-64 characters".into()));
        }
        if f.touch_panel.len() > 16 || f.touch_panel.iter().any(|p| p.name.is_empty()) {
            return Err(BoardError(
                "touch_panel: at most 16, each with a device name".into(),
            ));
        }
        Ok(Board {
            model: f.model,
            dock: f.dock,
            rotation,
            touch_panels: f.touch_panel,
        })
    }

    /// Read a board file (bounded).
    pub fn load(path: &std::path::Path) -> Result<Board, BoardError> {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BOARD_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| BoardError(format!("{}: {e}", path.display())))?;
        if text.len() as u64 > MAX_BOARD_BYTES {
            return Err(BoardError(format!(
                "{} is larger than {MAX_BOARD_BYTES} bytes",
                path.display()
            )));
        }
        Board::parse(&text).map_err(|e| BoardError(format!("{}: {}", path.display(), e.0)))
    }

    /// Whether this board names the device as a single-touch panel.
    pub fn names_touch_panel(&self, device_name: &str) -> bool {
        self.touch_panels.iter().any(|p| p.name == device_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_board_file_parses_and_bad_ones_say_why() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/image/board/qemu-x86_64.toml"
        ))
        .unwrap();
        let b = Board::parse(&text).unwrap();
        assert_eq!(b.dock, DockSense::Always);
        assert!(b.names_touch_panel("QEMU QEMU USB Tablet"));
        assert!(!b.names_touch_panel("QEMU QEMU USB Keyboard"));
        let e = Board::parse("model = \"x\"\nrotation = 45\n").unwrap_err();
        assert!(e.to_string().contains("rotation 45"), "{e}");
        assert!(Board::parse("model = \"x\"\nshell = \"/bin/sh\"\n").is_err());
        assert_eq!(
            Board::parse("model = \"x\"\n").unwrap().dock,
            DockSense::Power
        );
    }
}
