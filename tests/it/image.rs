//! `image/build-image.sh` run into a scratch root: what it installs is what
//! the lock-down relies on. (Booting it is the image's own test.)

use std::path::Path;
use std::process::Command;

#[test]
fn the_image_script_installs_the_lock_down() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // The berth user exists already, so the script needs no chroot.
    std::fs::create_dir_all(r.join("etc")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("image/build-image.sh");
    std::fs::write(
        r.join("etc/shadow"),
        "root:$y$j9T$abc$def:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\nberth:x:999:999::/var/lib/berth:/usr/sbin/nologin\n",
    )
    .unwrap();
    let root_json = r.join("site-root.json");
    std::fs::write(&root_json, "{}").unwrap();
    let out = Command::new("bash")
        .arg(&script)
        .arg(r)
        .arg(env!("CARGO_BIN_EXE_berth"))
        .arg(&root_json)
        .arg("10.0.2.100:7443")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| std::fs::read_to_string(r.join(p)).unwrap_or_default();
    // A burst of Ctrl+Alt+Del (systemd's own handler, not the target or
    // the sysctl) neither reboots nor does anything else.
    let manager = read("etc/systemd/system.conf.d/60-berth.conf");
    assert!(
        manager
            .lines()
            .any(|l| l.trim() == "CtrlAltDelBurstAction=none"),
        "{manager}"
    );
    assert!(read("etc/sysctl.d/60-berth.conf").contains("kernel.ctrl-alt-del = 0"));
    assert!(read("etc/sysctl.d/60-berth.conf").contains("kernel.sysrq = 0"));
    for masked in [
        "ctrl-alt-del.target",
        "debug-shell.service",
        "getty@.service",
        "serial-getty@.service",
        "autovt@.service",
    ] {
        let link = std::fs::read_link(r.join("etc/systemd/system").join(masked));
        assert_eq!(
            link.ok().as_deref(),
            Some(Path::new("/dev/null")),
            "{masked} is masked"
        );
    }
    assert!(read("etc/systemd/logind.conf.d/berth.conf").contains("NAutoVTs=0"));
    assert!(r.join("usr/bin/berth").exists());
    for masked in [
        "emergency.service",
        "rescue.service",
        "systemd-logind.service",
    ] {
        let link = std::fs::read_link(r.join("etc/systemd/system").join(masked));
        assert_eq!(
            link.ok().as_deref(),
            Some(Path::new("/dev/null")),
            "{masked}"
        );
    }
    // Nobody has a shell: root's password is locked and its shell is nologin.
    assert!(
        read("etc/shadow").starts_with("root:!*:"),
        "{}",
        read("etc/shadow")
    );
    assert!(
        read("etc/passwd")
            .lines()
            .any(|l| l == "root:x:0:0:root:/root:/usr/sbin/nologin"),
        "{}",
        read("etc/passwd")
    );
    // Only the data partition is written; the journal lives there, capped.
    let fstab = read("etc/fstab");
    assert!(fstab.contains("PARTLABEL=berth-data  /data"), "{fstab}");
    assert!(
        fstab.contains("/data/berth           /var/lib/berth"),
        "{fstab}"
    );
    assert!(
        fstab.contains("/data/journal         /var/log/journal"),
        "{fstab}"
    );
    let journald = read("etc/systemd/journald.conf.d/60-berth.conf");
    assert!(journald.contains("Storage=persistent") && journald.contains("SystemMaxUse=32M"));
    // libinput opens no input device: the shell's own layer reads them.
    assert!(
        read("etc/udev/rules.d/70-berth.rules")
            .lines()
            .any(|l| l.starts_with("SUBSYSTEM==\"input\", ENV{LIBINPUT_IGNORE_DEVICE}=\"1\""))
    );
    // The image carries the facility's root and its board; the site's
    // drop-in names the dock and allows only its address.
    assert_eq!(read("usr/share/berth/root.json"), "{}");
    assert!(read("usr/share/berth/board.toml").contains("dock = \"always\""));
    let dock = read("etc/systemd/system/berth.service.d/dock.conf");
    assert!(dock.contains("--dock 10.0.2.100:7443"), "{dock}");
    assert!(
        dock.lines().any(|l| l == "IPAddressAllow=10.0.2.100"),
        "{dock}"
    );
    // The boot test's crash overlay is never part of a built root.
    let mut stack = vec![r.join("etc")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                assert!(!text.contains("BERTH_FAILPOINT"), "{}", p.display());
            }
        }
    }
    let unit = read("etc/systemd/system/berth.service");
    assert!(
        unit.contains("ExecStart=/usr/bin/berth shell --data /var/lib/berth"),
        "{unit}"
    );
}
