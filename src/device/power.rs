//! Battery and dock (external power) from /sys/class/power_supply.

use std::path::{Path, PathBuf};

/// Reads the kernel's power-supply class. On a desktop without a battery
/// it reports none and "not docked" unless mains power is listed.
pub struct PowerSupply {
    root: PathBuf,
}

impl Default for PowerSupply {
    fn default() -> Self {
        PowerSupply {
            root: PathBuf::from("/sys/class/power_supply"),
        }
    }
}

fn read_trim(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

impl PowerSupply {
    /// Read from another directory shaped like /sys/class/power_supply.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        PowerSupply { root: root.into() }
    }

    fn supplies(&self) -> Vec<(String, PathBuf)> {
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        rd.filter_map(|e| e.ok())
            .filter_map(|e| read_trim(&e.path().join("type")).map(|t| (t, e.path())))
            .collect()
    }

    pub fn battery_percent(&self) -> Option<u8> {
        self.supplies()
            .into_iter()
            .filter(|(t, _)| t == "Battery")
            .find_map(|(_, p)| read_trim(&p.join("capacity"))?.parse::<u8>().ok())
            .map(|c| c.min(100))
    }

    /// Docked means external power is present (the dock charges the tablet).
    pub fn on_external_power(&self) -> bool {
        self.supplies()
            .into_iter()
            .filter(|(t, _)| t == "Mains" || t == "USB")
            .any(|(_, p)| read_trim(&p.join("online")).as_deref() == Some("1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_sysfs_shaped_tree() {
        let d = tempfile::tempdir().unwrap();
        let bat = d.path().join("BAT0");
        let ac = d.path().join("AC");
        std::fs::create_dir_all(&bat).unwrap();
        std::fs::create_dir_all(&ac).unwrap();
        std::fs::write(bat.join("type"), "Battery\n").unwrap();
        std::fs::write(bat.join("capacity"), "67\n").unwrap();
        std::fs::write(ac.join("type"), "Mains\n").unwrap();
        std::fs::write(ac.join("online"), "0\n").unwrap();
        let p = PowerSupply::at(d.path());
        assert_eq!(p.battery_percent(), Some(67));
        assert!(!p.on_external_power());
        std::fs::write(ac.join("online"), "1\n").unwrap();
        assert!(p.on_external_power());
        assert_eq!(
            PowerSupply::at(d.path().join("none")).battery_percent(),
            None
        );
    }
}
