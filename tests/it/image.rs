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
    std::fs::write(
        r.join("etc/passwd"),
        "berth:x:999:999::/var/lib/berth:/usr/sbin/nologin\n",
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("image/build-image.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(r)
        .arg(env!("CARGO_BIN_EXE_berth"))
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
}
