//! The firmware image, booted: `image/build.sh` makes the disk image with
//! a demo facility's root and a dock address, qemu boots it (software
//! emulation where KVM is not usable), and the test drives the guest
//! through QMP as a person and a member of staff would: it watches the
//! screen with `screendump`, taps with `input-send-event` on qemu's USB
//! tablet (an absolute pointer, read by Berth's own evdev layer through
//! the board profile), types escape keys on a USB keyboard, and enrols
//! the tablet at a real dock on the host, reached through qemu's user
//! network restricted to the dock's address.
//!
//! It needs root (debootstrap), qemu-system-x86_64, OVMF and the tablet
//! binary (`cargo build --release --no-default-features --features
//! device`), so it is ignored in a plain `cargo test`; `.ci/run` runs it:
//!
//! ```sh
//! cargo test --test boot -- --ignored --nocapture
//! ```
//!
//! `BERTH_DEVICE_BIN` names the binary (default `target/release/berth`);
//! `BERTH_KVM=1` uses KVM where it works (not on these machines);
//! `BERTH_UPDATE_GOLDENS=1` rewrites the goldens in `tests/image/`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The guest's screen (std VGA with an EDID for this mode).
const W: usize = 1280;
const H: usize = 800;
/// Where the guest reaches the dock (qemu's guestfwd to the host's dock).
const DOCK_IN_GUEST: &str = "10.0.2.100:7443";

struct Qmp {
    r: BufReader<UnixStream>,
    w: UnixStream,
}

impl Qmp {
    fn connect(path: &Path, deadline: Instant) -> Qmp {
        let s = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("QMP socket {}: {e}", path.display()),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut q = Qmp {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        };
        let greeting = q.line();
        assert!(greeting.get("QMP").is_some(), "{greeting}");
        q.cmd(json!({"execute": "qmp_capabilities"}));
        q
    }

    fn line(&mut self) -> Value {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("reading QMP");
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("QMP said {l:?}: {e}"))
    }

    fn cmd(&mut self, c: Value) -> Value {
        writeln!(self.w, "{c}").unwrap();
        loop {
            let v = self.line();
            if v.get("event").is_some() {
                continue;
            }
            if let Some(e) = v.get("error") {
                panic!("QMP {c} failed: {e}");
            }
            return v["return"].clone();
        }
    }

    /// The guest's screen, as RGB rows.
    fn screen(&mut self, dir: &Path) -> Screen {
        let file = dir.join("screen.ppm");
        let _ = std::fs::remove_file(&file);
        self.cmd(json!({"execute": "screendump", "arguments": {"filename": file}}));
        Screen::from_ppm(&std::fs::read(&file).unwrap())
    }

    /// A finger down and up at a point of the 1280×800 screen.
    fn tap(&mut self, x: u32, y: u32) {
        let abs = |axis: &str, v: u32, size: usize| json!({"type": "abs", "data": {"axis": axis, "value": (v as u64 * 32767 / (size as u64 - 1))}});
        self.cmd(
            json!({"execute": "input-send-event", "arguments": {"events": [
                abs("x", x, W), abs("y", y, H)
            ]}}),
        );
        self.cmd(
            json!({"execute": "input-send-event", "arguments": {"events": [
                {"type": "btn", "data": {"down": true, "button": "left"}}
            ]}}),
        );
        std::thread::sleep(Duration::from_millis(80));
        self.cmd(
            json!({"execute": "input-send-event", "arguments": {"events": [
                {"type": "btn", "data": {"down": false, "button": "left"}}
            ]}}),
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Keys held together, as a person presses a shortcut.
    fn keys(&mut self, keys: &[&str]) {
        let keys: Vec<Value> = keys
            .iter()
            .map(|k| json!({"type": "qcode", "data": k}))
            .collect();
        self.cmd(json!({"execute": "send-key", "arguments": {"keys": keys, "hold-time": 60}}));
        std::thread::sleep(Duration::from_millis(120));
    }
}

#[derive(Clone)]
struct Screen {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Screen {
    fn from_ppm(b: &[u8]) -> Screen {
        // "P6\n<w> <h>\n255\n" then the pixels.
        let mut fields = Vec::new();
        let mut i = 0;
        while fields.len() < 4 {
            while b[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while !b[i].is_ascii_whitespace() {
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&b[start..i]).to_string());
        }
        assert_eq!(fields[0], "P6");
        let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        let rgb = b[i + 1..i + 1 + w * h * 3].to_vec();
        Screen { w, h, rgb }
    }

    fn from_png(path: &Path) -> Option<Screen> {
        let f = std::fs::File::open(path).ok()?;
        let mut r = png::Decoder::new(std::io::BufReader::new(f))
            .read_info()
            .ok()?;
        let mut buf = vec![0; r.output_buffer_size()?];
        let info = r.next_frame(&mut buf).ok()?;
        let px = info.color_type.samples();
        let rgb = buf[..info.buffer_size()]
            .chunks(px)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Some(Screen {
            w: info.width as usize,
            h: info.height as usize,
            rgb,
        })
    }

    fn save_png(&self, path: &Path) {
        let f = std::fs::File::create(path).unwrap();
        let mut e = png::Encoder::new(std::io::BufWriter::new(f), self.w as u32, self.h as u32);
        e.set_color(png::ColorType::Rgb);
        e.write_header()
            .unwrap()
            .write_image_data(&self.rgb)
            .unwrap();
    }

    /// Share of pixels that differ (by more than a little, per channel)
    /// outside the masked rectangles (x, y, w, h).
    fn differs_from(&self, other: &Screen, masks: &[(usize, usize, usize, usize)]) -> f64 {
        if (self.w, self.h) != (other.w, other.h) {
            return 1.0;
        }
        let masked = |x: usize, y: usize| {
            masks
                .iter()
                .any(|&(mx, my, mw, mh)| x >= mx && x < mx + mw && y >= my && y < my + mh)
        };
        let (mut n, mut differ) = (0usize, 0usize);
        for y in 0..self.h {
            for x in 0..self.w {
                if masked(x, y) {
                    continue;
                }
                n += 1;
                let i = (y * self.w + x) * 3;
                if (0..3).any(|c| self.rgb[i + c].abs_diff(other.rgb[i + c]) > 40) {
                    differ += 1;
                }
            }
        }
        differ as f64 / n.max(1) as f64
    }

    /// Share of differing pixels inside one rectangle only.
    fn differs_in(&self, other: &Screen, (x, y, w, h): (usize, usize, usize, usize)) -> f64 {
        let outside = [
            (0, 0, W, y),
            (0, y + h, W, H - (y + h)),
            (0, y, x, h),
            (x + w, y, W - (x + w), h),
        ];
        self.differs_from(other, &outside)
    }

    /// Nearly all dark: the shell's blank screen.
    fn is_dark(&self) -> bool {
        let dark = self
            .rgb
            .chunks(3)
            .filter(|p| p.iter().all(|c| *c < 24))
            .count();
        dark * 100 > self.w * self.h * 97
    }

    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.w + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The shell has drawn: its status bar's colour at the top and its
    /// page background below (not the firmware's logo or a console).
    fn is_shell(&self) -> bool {
        (self.w, self.h) == (W, H)
            && self.at(5, 5) == STATUS_BAR_COLOUR
            && self.at(1270, 600) == BACKGROUND_COLOUR
    }
}

/// Theme.status-bar and Theme.background (ui/theme.slint).
const STATUS_BAR_COLOUR: [u8; 3] = [29, 52, 71];
const BACKGROUND_COLOUR: [u8; 3] = [244, 241, 234];

/// The status bar (clock, sync time) changes from minute to minute.
const STATUS_BAR: (usize, usize, usize, usize) = (0, 0, W, 64);
/// Off the lock screen, the sync strip says when the last sync was.
const SYNC_STRIP: (usize, usize, usize, usize) = (0, H - 40, W, 40);

struct Guest {
    child: Child,
    dir: PathBuf,
    qmp: Qmp,
    booted: Instant,
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Guest {
    fn boot(image: &Path, dir: &Path, dock_port: u16) -> Guest {
        let disk = dir.join("disk.img");
        let ok = Command::new("cp")
            .args(["--sparse=always"])
            .arg(image)
            .arg(&disk)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let qmp = dir.join("qmp.sock");
        let _ = std::fs::remove_file(&qmp);
        // /dev/kvm opens on these machines, but the host module (kvm-pvm)
        // fails on OVMF's first instructions ("KVM internal error"), so
        // KVM is used only when asked for.
        let kvm = std::env::var_os("BERTH_KVM").is_some();
        let mut c = Command::new("qemu-system-x86_64");
        c.args(["-machine", if kvm { "q35,accel=kvm" } else { "q35,accel=tcg" }])
            .args(["-m", "1024", "-smp", "2"])
            .args(["-bios", "/usr/share/ovmf/OVMF.fd"])
            .arg("-drive")
            .arg(format!("if=virtio,format=raw,file={}", disk.display()))
            .args(["-device", "VGA,xres=1280,yres=800,edid=on"])
            .args(["-device", "qemu-xhci", "-device", "usb-tablet", "-device", "usb-kbd"])
            .arg("-nic")
            // The guest reaches nothing but the dock: restrict=on, and one
            // forward (a socat per connection) to the dock on the host.
            .arg(format!(
                "user,model=virtio-net-pci,restrict=on,guestfwd=tcp:{DOCK_IN_GUEST}-cmd:socat - TCP:127.0.0.1:{dock_port}"
            ))
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp.display()))
            .arg("-serial")
            .arg(format!("file:{}", dir.join("serial.log").display()))
            // A reboot the guest asks for ends qemu (set-action below),
            // so a reboot by a key would show.
            // What the tablet plays, recorded: an HDA card on qemu's
            // wav audiodev.
            .arg("-audiodev")
            .arg(format!("wav,id=snd0,path={}", dir.join("sound.wav").display()))
            .args(["-device", "ich9-intel-hda", "-device", "hda-output,audiodev=snd0"])
            .args(["-display", "none", "-action", "reboot=shutdown"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("qemu.log")).unwrap(),
            ));
        if !kvm {
            println!("KVM is not usable here: software emulation");
        }
        let booted = Instant::now();
        let child = c
            .spawn()
            .expect("qemu-system-x86_64 (apt-get install qemu-system-x86 ovmf)");
        let qmp = Qmp::connect(&qmp, Instant::now() + Duration::from_secs(20));
        Guest {
            child,
            dir: dir.to_path_buf(),
            qmp,
            booted,
        }
    }

    fn screen(&mut self) -> Screen {
        self.qmp.screen(&self.dir)
    }

    /// Wait until `f` holds for the screen, within `secs`.
    fn wait_for(&mut self, what: &str, secs: u64, f: impl Fn(&Screen) -> bool) -> Screen {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            if Instant::now() > deadline {
                s.save_png(&self.dir.join("timeout.png"));
                let serial =
                    std::fs::read_to_string(self.dir.join("serial.log")).unwrap_or_default();
                let tail: String = serial
                    .lines()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                panic!(
                    "{what}: not within {secs} s (screen in {}); serial console:\n{tail}",
                    self.dir.join("timeout.png").display()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The golden of a screen, or (BERTH_UPDATE_GOLDENS=1, or none yet) the
/// screen becomes the golden.
fn golden(name: &str, s: &Screen) -> Screen {
    let path = Path::new(ROOT)
        .join("tests/image")
        .join(format!("{name}.png"));
    if std::env::var_os("BERTH_UPDATE_GOLDENS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        s.save_png(&path);
    }
    Screen::from_png(&path).unwrap_or_else(|| {
        panic!(
            "no golden {}: run with BERTH_UPDATE_GOLDENS=1 once and look at it",
            path.display()
        )
    })
}

fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "boots the firmware image in qemu: needs root, qemu and OVMF (.ci/run runs it)"]
fn the_image_boots_to_the_shell_is_enrolled_at_the_dock_and_no_key_escapes() {
    let work = Path::new(ROOT).join("target/boot-test");
    let _ = std::fs::remove_dir_all(work.join("run"));
    let run_dir = work.join("run");
    std::fs::create_dir_all(&run_dir).unwrap();

    // The facility: a demo set-up (keys, roster, content, a dock), with a
    // policy that has no quiet hours so the home page does not depend on
    // the hour CI runs at.
    let site = run_dir.join("site");
    berth::demo::run(
        &site,
        &Path::new(ROOT).join("assets/demo"),
        &mut std::io::sink(),
    )
    .unwrap();
    let paths = berth::demo::DemoPaths::new(&site);
    let facility = berth::facility::Facility::open(&paths.facility).unwrap();
    let policy = run_dir.join("policy.toml");
    std::fs::write(
        &policy,
        "scope = \"facility\"\nversion = 50\n[rules]\ntimezone = \"America/Chicago\"\nsession_minutes = 600\ndaily_message_quota = 10\n",
    )
    .unwrap();
    let mut dock = berth::dock::Dock::open(&paths.facility, &paths.dock).unwrap();
    dock.publish(&facility.sign_policy(&policy, chrono::Utc::now()).unwrap().0)
        .unwrap();
    // The demo's content (the course, the books, the album), as the vendor
    // packed it, approved at the dock for the unit: the booted tablet
    // gets it at its first sync like any tablet would.
    for e in std::fs::read_dir(&paths.bundles).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with("-v1.berth") && !name.contains(".approved") {
            let b = dock.add_bundle_file(&e.path()).unwrap();
            dock.approve_bundle(&b.bundle_id, &[berth::demo::DEMO_UNIT.parse().unwrap()])
                .unwrap();
        }
    }
    let running = berth::dock::server::start(&dock, "127.0.0.1:0", false).unwrap();

    // The image, with this facility's root and the dock's address.
    let bin = std::env::var("BERTH_DEVICE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(ROOT).join("target/release/berth"));
    // A test overlay: the shell crashes once, right after the dock has
    // stored a letter and before the tablet marks it sent (the failpoint
    // the crash tests use). tests/it/image.rs shows a production build
    // has no such drop-in.
    let overlay = run_dir.join("overlay");
    let dropin = overlay.join("etc/systemd/system/berth.service.d");
    std::fs::create_dir_all(&dropin).unwrap();
    std::fs::write(
        dropin.join("90-test-failpoint.conf"),
        "[Service]\nEnvironment=BERTH_FAILPOINT=sync:after-ack-received,hang:ui:open-music\n\
         Environment=BERTH_FAILPOINT_ONCE=/var/lib/berth/test-failpoint-fired\n",
    )
    .unwrap();
    let t = Instant::now();
    run(Command::new("bash")
        .env("BERTH_IMAGE_OVERLAY", &overlay)
        .arg(Path::new(ROOT).join("image/build.sh"))
        .arg(&work)
        .arg(&bin)
        .arg(berth::facility::Facility::root_path(&paths.facility))
        .arg(DOCK_IN_GUEST));
    println!("image built in {:.0} s", t.elapsed().as_secs_f64());

    let mut g = Guest::boot(&work.join("berth.img"), &run_dir, running.addr.port());

    // Boot: the first frame of the shell, a freshly flashed tablet's
    // "not set up" panel.
    g.wait_for("the shell's first frame", 240, |s| s.is_shell());
    let first_frame = g.booted.elapsed();
    println!(
        "first frame {:.1} s after power-on",
        first_frame.as_secs_f64()
    );
    // The dock has seen it: it tried to sync and was refused.
    let deadline = Instant::now() + Duration::from_secs(90);
    let pending = loop {
        let p = dock.pending_tablets().unwrap();
        if let Some(p) = p.into_iter().next() {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the tablet never reached the dock"
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    println!("tablet {} waits to be enrolled", pending.code);
    std::thread::sleep(Duration::from_secs(2));
    let not_set_up = g.screen();
    not_set_up.save_png(&run_dir.join("not-set-up.png"));
    // The code differs on every tablet: it is left out of the comparison.
    let code_box = (0, 300, W, 200);
    let d = not_set_up.differs_from(&golden("not-set-up", &not_set_up), &[STATUS_BAR, code_box]);
    assert!(
        d < 0.02,
        "the not-set-up screen differs from its golden in {:.1}% of pixels",
        d * 100.0
    );

    // IT enrols it by the code; within its retry it has the roster.
    dock.enroll_by_code(
        &"cli:test".parse().unwrap(),
        &berth::domain::DeviceCode::parse(&pending.code).unwrap(),
        "b-east-qemu",
        &[berth::demo::DEMO_UNIT.parse().unwrap()],
    )
    .unwrap();
    let lock_golden_path = Path::new(ROOT).join("tests/image/lock.png");
    let before = not_set_up.clone();
    let lock = g.wait_for("the lock screen with names", 120, |s| {
        s.differs_from(&before, &[STATUS_BAR]) > 0.05
            && (std::env::var_os("BERTH_UPDATE_GOLDENS").is_some()
                || Screen::from_png(&lock_golden_path)
                    .is_some_and(|gold| s.differs_from(&gold, &[STATUS_BAR]) < 0.02))
    });
    lock.save_png(&run_dir.join("lock.png"));
    let d = lock.differs_from(&golden("lock", &lock), &[STATUS_BAR]);
    assert!(
        d < 0.02,
        "lock screen differs from its golden in {:.1}%",
        d * 100.0
    );

    // A text field has the focus (Type my ID, with the on-screen keyboard
    // up): keys from the USB keyboard type nothing into it.
    g.qmp.tap(316, 727);
    std::thread::sleep(Duration::from_millis(1500));
    let typing = g.screen();
    typing.save_png(&run_dir.join("type-id.png"));
    assert!(
        typing.differs_from(&lock, &[STATUS_BAR]) > 0.05,
        "Type my ID opened nothing"
    );
    for k in [
        "b",
        "2",
        "0",
        "4",
        "1",
        "7",
        "shift",
        "a",
        "ret",
        "tab",
        "backspace",
    ] {
        g.qmp.keys(&[k]);
    }
    std::thread::sleep(Duration::from_secs(1));
    let typed = g.screen();
    let d = typed.differs_from(&typing, &[STATUS_BAR]);
    assert!(
        d < 0.002,
        "keys typed into the ID field ({:.2}% of pixels changed)",
        d * 100.0
    );
    g.qmp.tap(143, 147); // Back
    g.wait_for("the names again", 20, |s| {
        s.differs_from(&lock, &[STATUS_BAR]) < 0.02
    });

    // Touch: James Carter, his enrolment code on the PIN pad, a new PIN
    // twice: the home page.
    g.qmp.tap(316, 328);
    std::thread::sleep(Duration::from_secs(1));
    let pad = g.screen();
    pad.save_png(&run_dir.join("pad.png"));
    assert!(
        pad.differs_from(&lock, &[STATUS_BAR]) > 0.02,
        "the tap on his name opened nothing"
    );
    for pin in ["582316", "4821", "4821"] {
        type_pin(&mut g.qmp, pin);
        std::thread::sleep(Duration::from_secs(2));
    }
    let home_golden_path = Path::new(ROOT).join("tests/image/home.png");
    let home = g.wait_for("the home page", 60, |s| {
        std::env::var_os("BERTH_UPDATE_GOLDENS").is_some()
            || Screen::from_png(&home_golden_path)
                .is_some_and(|gold| s.differs_from(&gold, &[STATUS_BAR, SYNC_STRIP]) < 0.02)
    });
    home.save_png(&run_dir.join("home.png"));
    let d = home.differs_from(&golden("home", &home), &[STATUS_BAR, SYNC_STRIP]);
    assert!(
        d < 0.02,
        "home page differs from its golden in {:.1}%",
        d * 100.0
    );

    // Escape attempts on the USB keyboard: VT switches, SysRq, a burst of
    // ctrl-alt-del, ctrl-alt-backspace, Escape, the super key, typing.
    // Nothing may change: no console, no reboot, no restart of the shell
    // (which would show the lock screen).
    for f in 1..=6 {
        g.qmp.keys(&["ctrl", "alt", &format!("f{f}")]);
    }
    for k in ["b", "e", "i", "s", "h", "c"] {
        g.qmp.keys(&["alt", "sysrq", k]);
    }
    for _ in 0..9 {
        g.qmp.keys(&["ctrl", "alt", "delete"]);
    }
    g.qmp.keys(&["ctrl", "alt", "backspace"]);
    g.qmp.keys(&["esc"]);
    g.qmp.keys(&["meta_l"]);
    for k in ["h", "o", "l", "a", "ret"] {
        g.qmp.keys(&[k]);
    }
    std::thread::sleep(Duration::from_secs(5));
    let after = g.screen();
    after.save_png(&run_dir.join("after-keys.png"));
    let d = after.differs_from(&home, &[STATUS_BAR, SYNC_STRIP]);
    assert!(
        d < 0.005,
        "the keyboard changed the screen ({:.2}% of pixels)",
        d * 100.0
    );
    let status = g.qmp.cmd(json!({"execute": "query-status"}));
    assert_eq!(status["status"], "running", "{status}");
    // reboot=shutdown: a reboot would have ended qemu.
    assert!(
        g.child.try_wait().unwrap().is_none(),
        "the guest rebooted or stopped"
    );

    // The power button (ACPI, as qemu's power-down sends it: the kernel's
    // "Power Button" device, which Berth reads as the tablet's buttons)
    // locks and blanks the screen; the tablet stays on. A touch wakes it.
    g.qmp.cmd(json!({"execute": "system_powerdown"}));
    let blank = g.wait_for("a blank screen after the power button", 20, |s| s.is_dark());
    blank.save_png(&run_dir.join("power-button.png"));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        g.child.try_wait().unwrap().is_none(),
        "the power button powered off the guest"
    );
    g.qmp.tap(640, 400);
    let lock_golden = Screen::from_png(&lock_golden_path).unwrap();
    g.wait_for("the lock screen after a touch", 20, |s| {
        s.differs_from(&lock_golden, &[STATUS_BAR]) < 0.02
    });
    sign_in(&mut g.qmp, "4821");
    let home_golden = Screen::from_png(&home_golden_path).unwrap();
    g.wait_for("home again with the PIN", 30, |s| {
        s.differs_from(&home_golden, &[STATUS_BAR, SYNC_STRIP]) < 0.02
    });

    // Power cut: the plug is pulled with the person signed in, seconds
    // after the PIN was set. The tablet boots again to the lock screen,
    // and James's PIN (not his enrolment code) lets him in: the data
    // partition kept what was committed.
    g.qmp
        .cmd(json!({"execute": "set-action", "arguments": {"reboot": "reset"}}));
    g.qmp.cmd(json!({"execute": "system_reset"}));
    let cut = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let again = g.wait_for("the lock screen after the power cut", 240, |s| {
        s.is_shell() && s.differs_from(&lock_golden, &[STATUS_BAR]) < 0.02
    });
    println!(
        "back at the lock screen {:.1} s after the cut",
        cut.elapsed().as_secs_f64()
    );
    again.save_png(&run_dir.join("after-cut.png"));
    sign_in(&mut g.qmp, "4821");
    g.wait_for("home with the PIN set before the cut", 60, |s| {
        s.differs_from(&home_golden, &[STATUS_BAR, SYNC_STRIP]) < 0.02
    });
    g.qmp
        .cmd(json!({"execute": "set-action", "arguments": {"reboot": "shutdown"}}));

    // A letter, from the guest to the dock: James logs out; María signs
    // in for the first time (her code, then a PIN), opens Mensajes, taps
    // her sister, types "hola" on the on-screen keyboard and sends it. In
    // the dock it leaves at once and waits for review at the dock.
    g.qmp.tap(1207, 32); // Log out
    g.wait_for("the lock screen after logging out", 20, |s| {
        s.differs_from(&lock_golden, &[STATUS_BAR]) < 0.02
    });
    g.qmp.tap(339, 496); // María González
    std::thread::sleep(Duration::from_secs(1));
    for pin in ["731904", "4821", "4821"] {
        type_pin(&mut g.qmp, pin);
        std::thread::sleep(Duration::from_secs(2));
    }
    g.qmp.tap(229, 300); // Mensajes
    std::thread::sleep(Duration::from_secs(2));
    g.qmp.tap(194, 211); // Ana González
    std::thread::sleep(Duration::from_secs(1));
    g.qmp.tap(818, 288); // the letter
    std::thread::sleep(Duration::from_secs(1));
    // The Spanish keyboard (it has a row of accented letters).
    for (x, y) in [(703, 609), (1083, 556), (1083, 609), (69, 609)] {
        g.qmp.tap(x, y); // h o l a
    }
    g.screen().save_png(&run_dir.join("letter.png"));
    // With the keyboard up the send button sits beside the recipient.
    g.qmp.tap(1047, 111); // Enviar en la próxima conexión
    let sent = Instant::now();
    // The sync that takes it crashes the shell once (the test overlay's
    // failpoint); systemd starts it again and the lock screen returns.
    g.wait_for("the lock screen after the shell crashed", 90, |s| {
        s.differs_from(&lock_golden, &[STATUS_BAR]) < 0.02
    });
    println!(
        "crash to lock screen: {:.1} s after sending",
        sent.elapsed().as_secs_f64()
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let letter = loop {
        let found = dock.review_list().unwrap().into_iter().find(|i| {
            // Her own letter (the demo also left Ana's reply in review).
            i.kind == berth::dock::ReviewKind::Outbound
                && i.person == "A12345"
                && i.contact == "ana"
        });
        if let Some(l) = found {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the letter from the guest never reached the dock (screens in {})",
            run_dir.display()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    assert_eq!(letter.body.as_deref(), Some("Hola"), "{letter:?}");
    // The restarted shell synced again at its start and sent the letter
    // again (it never saw the ack): María sees it in review, and the dock
    // holds it once.
    std::thread::sleep(Duration::from_secs(10));
    g.qmp.tap(339, 496); // María González
    std::thread::sleep(Duration::from_secs(1));
    type_pin(&mut g.qmp, "4821");
    std::thread::sleep(Duration::from_secs(3));
    g.qmp.tap(229, 300); // Mensajes
    std::thread::sleep(Duration::from_secs(2));
    g.qmp.tap(194, 211); // Ana González
    std::thread::sleep(Duration::from_secs(2));
    let thread = g.screen();
    thread.save_png(&run_dir.join("letter-after-crash.png"));
    // The letter's date and time differ from run to run.
    let letter_time = (380, 495, 150, 40);
    let gold = golden("letter-after-crash", &thread);
    let d = thread.differs_from(&gold, &[STATUS_BAR, SYNC_STRIP, letter_time]);
    // The state is a few words: compared on its own, strictly.
    let state = thread.differs_in(&gold, (1000, 500, 256, 32));
    assert!(
        state < 0.01,
        "the letter's state is not \"En revisión\" ({:.1}% of its pixels differ)",
        state * 100.0
    );
    assert!(
        d < 0.02,
        "the letter after the crash differs from its golden (\"En revisión\") in {:.1}%",
        d * 100.0
    );
    let copies = dock
        .review_list()
        .unwrap()
        .into_iter()
        .filter(|i| {
            i.kind == berth::dock::ReviewKind::Outbound
                && i.person == "A12345"
                && i.contact == "ana"
        })
        .count();
    assert_eq!(copies, 1, "the letter is at the dock exactly once");

    // Sound: María logs out; James opens Music, the demo album and Play
    // all. qemu records what the tablet's HDA card plays (the wav
    // audiodev); the album's three tracks are 44.1 kHz stereo Vorbis,
    // 16 kHz mono FLAC and MP3, all through the shell's one output stream.
    g.qmp.tap(1207, 32); // Cerrar sesión
    g.wait_for("the lock screen before the music", 20, |s| {
        s.is_shell() && s.differs_from(&lock_golden, &[STATUS_BAR]) < 0.05
    });
    // A hung shell: James's first tap on Music hangs the event loop (the
    // overlay's second failpoint). The screen stays as it was, no watchdog
    // ping comes, and systemd (WatchdogSec=30) kills and restarts the
    // shell, which comes back at the lock screen; his PIN still works.
    sign_in(&mut g.qmp, "4821");
    g.wait_for("James's home before the hang", 30, |s| {
        s.differs_from(&home_golden, &[STATUS_BAR, SYNC_STRIP]) < 0.02
    });
    g.qmp.tap(229, 590); // Music
    let hung = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let frozen = g.screen();
    assert!(
        frozen.differs_from(&home_golden, &[STATUS_BAR, SYNC_STRIP]) < 0.02,
        "the hung shell should still show the home page"
    );
    g.wait_for("the lock screen after the watchdog", 120, |s| {
        s.is_shell() && s.differs_from(&lock_golden, &[STATUS_BAR]) < 0.05
    });
    let watchdog = hung.elapsed().as_secs_f64();
    println!("hung event loop to the lock screen again: {watchdog:.1} s (WatchdogSec=30)");
    // The last ping was up to 10 s before the hang: the kill comes 20 to
    // 30 s after it, then the ~4 s restart. The journal says it was the
    // watchdog (checked below).
    assert!(
        watchdog > 15.0,
        "the lock screen came back after {watchdog:.1} s: Music did not hang the shell"
    );
    sign_in(&mut g.qmp, "4821");
    g.wait_for("James's home before the music", 30, |s| {
        s.differs_from(&home_golden, &[STATUS_BAR, SYNC_STRIP]) < 0.02
    });
    g.qmp.tap(229, 590); // Music
    std::thread::sleep(Duration::from_secs(3));
    g.qmp.tap(154, 360); // Open Air
    std::thread::sleep(Duration::from_secs(3));
    let album = album_seconds();
    let before_play = wav_len(&run_dir.join("sound.wav"));
    g.qmp.tap(1136, 123); // Play all
    std::thread::sleep(Duration::from_secs_f64(album + 8.0));
    let playing = g.screen();
    playing.save_png(&run_dir.join("now-playing.png"));

    // The journal is read off the disk once qemu has quit.
    g.qmp.cmd(json!({"execute": "quit"}));
    let _ = g.child.wait();
    let heard = Heard::of(&run_dir.join("sound.wav"));
    println!(
        "sound: the album is {album:.1} s; the card played {:.1} s of sound over {:.1} s \
         ({:.1} s recorded before Play), its level {:.0}",
        heard.sounding, heard.span, before_play, heard.rms
    );
    assert!(
        heard.sounding >= album * 0.85,
        "the card played {:.1} s of sound; the album is {album:.1} s",
        heard.sounding
    );
    assert!(
        heard.span <= album + 5.0,
        "the album's sound was spread over {:.1} s (it is {album:.1} s): it stalled",
        heard.span
    );
    assert!(
        heard.rms > 300.0,
        "the sound is nearly silent ({:.0})",
        heard.rms
    );
    // The middle track (16 kHz mono) played too, not just the first.
    assert!(
        heard.sounding_in(14.0, 19.0) >= 4.0,
        "the 16 kHz mono track is missing: {:.1} s of sound from 14 s to 19 s",
        heard.sounding_in(14.0, 19.0)
    );

    // The journal is on the data partition. Its times give the boot's split: everything
    // before the shell starts (a bare boot) and the shell's own start to
    // READY=1, which it sends once its window is shown.
    let j = journal(&run_dir.join("disk.img"), &run_dir);
    std::fs::write(run_dir.join("journal.txt"), &j).unwrap();
    assert!(
        j.contains("Starting berth.service"),
        "the journal on the data partition should hold a boot of the shell"
    );

    assert!(
        j.contains("berth.service: Watchdog timeout"),
        "systemd's watchdog should have killed the hung shell"
    );
    let starting = at(&j, "Starting berth.service").expect("berth.service starting");
    let started = at(&j, "Started berth.service").expect("berth.service started");
    println!(
        "boot: kernel to the shell's start {starting:.1} s, to READY {started:.1} s \
         (ratio {:.2} against the boot without the shell)",
        started / starting
    );

    println!(
        "first frame {:.1} s; whole run {:.0} s",
        first_frame.as_secs_f64(),
        g.booted.elapsed().as_secs_f64()
    );
    drop(g);

    // The baseline: the same image with the shell kept from starting (a
    // drop-in with a condition that never holds), booted to a bare
    // multi-user.target; its journal says when it got there.
    let bare_overlay = run_dir.join("overlay-bare");
    let dropin = bare_overlay.join("etc/systemd/system/berth.service.d");
    std::fs::create_dir_all(&dropin).unwrap();
    std::fs::write(
        dropin.join("90-test-bare.conf"),
        "[Unit]\nConditionPathExists=/berth-test-never\n",
    )
    .unwrap();
    run(Command::new("bash")
        .env("BERTH_IMAGE_OVERLAY", &bare_overlay)
        .arg(Path::new(ROOT).join("image/build.sh"))
        .arg(&work)
        .arg(&bin)
        .arg(berth::facility::Facility::root_path(&paths.facility))
        .arg(DOCK_IN_GUEST));
    let bare_dir = run_dir.join("bare");
    std::fs::create_dir_all(&bare_dir).unwrap();
    let mut b = Guest::boot(&work.join("berth.img"), &bare_dir, running.addr.port());
    // No shell draws; the journal reaches the disk within 15 s of the
    // target (journald's sync interval on the image).
    std::thread::sleep(Duration::from_secs(90));
    b.qmp.cmd(json!({"execute": "quit"}));
    let _ = b.child.wait();
    let bj = journal(&bare_dir.join("disk.img"), &bare_dir);
    std::fs::write(bare_dir.join("journal.txt"), &bj).unwrap();
    assert!(
        !bj.contains("Started berth.service"),
        "the baseline ran the shell"
    );
    let bare =
        at(&bj, "Reached target multi-user.target").expect("the bare boot's multi-user.target");
    println!(
        "boot: kernel to a bare multi-user.target {bare:.1} s; to the shell's READY {started:.1} s: \
         ratio {:.2}",
        started / bare
    );
    running.stop();
}

/// The demo album's length, decoded on the host.
fn album_seconds() -> f64 {
    [
        "01-ode-to-joy.ogg",
        "02-twinkle.flac",
        "03-amazing-grace.mp3",
    ]
    .iter()
    .map(|f| {
        let i = berth::content::audio::probe(&Path::new(ROOT).join("assets/demo/music").join(f))
            .unwrap();
        i.frames as f64 / f64::from(i.sample_rate)
    })
    .sum()
}

/// Seconds recorded so far (qemu writes the header's sizes at quit; the
/// file's length says it before then).
fn wav_len(path: &Path) -> f64 {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    len.saturating_sub(44) as f64 / (44_100.0 * 4.0)
}

/// What qemu recorded, in 100 ms windows: which held sound.
struct Heard {
    /// Seconds of windows with sound.
    sounding: f64,
    /// From the first sound to the last.
    span: f64,
    /// The level of the windows with sound (16-bit RMS).
    rms: f64,
    /// Per window from the first sound: sound or not.
    windows: Vec<bool>,
}

impl Heard {
    fn of(path: &Path) -> Heard {
        let mut r = hound::WavReader::open(path).expect("qemu's recording");
        let spec = r.spec();
        let ch = usize::from(spec.channels);
        let per = spec.sample_rate as usize / 10 * ch;
        let samples: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
        let levels: Vec<f64> = samples
            .chunks(per)
            .map(|w| (w.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / w.len() as f64).sqrt())
            .collect();
        let loud: Vec<bool> = levels.iter().map(|&l| l > 100.0).collect();
        let first = loud.iter().position(|&l| l).unwrap_or(0);
        let last = loud.iter().rposition(|&l| l).unwrap_or(0);
        let n = loud.iter().filter(|&&l| l).count();
        let rms = levels.iter().filter(|&&l| l > 100.0).sum::<f64>() / n.max(1) as f64;
        Heard {
            sounding: n as f64 / 10.0,
            span: if n == 0 {
                0.0
            } else {
                (last + 1 - first) as f64 / 10.0
            },
            rms,
            windows: loud[first..].to_vec(),
        }
    }

    /// Seconds with sound between `from` and `to` seconds after the first.
    fn sounding_in(&self, from: f64, to: f64) -> f64 {
        let (a, b) = ((from * 10.0) as usize, (to * 10.0) as usize);
        self.windows
            .iter()
            .skip(a)
            .take(b.saturating_sub(a))
            .filter(|&&l| l)
            .count() as f64
            / 10.0
    }
}

/// The guest's journal, read from the data partition of the disk after
/// qemu quit (debugfs, no mount), as `journalctl -o short-monotonic`.
fn journal(disk: &Path, dir: &Path) -> String {
    let part = dir.join("data.part");
    // Partition 4: after 1 MiB, the 96 MiB ESP and two 640 MiB roots.
    run(Command::new("dd")
        .arg(format!("if={}", disk.display()))
        .arg(format!("of={}", part.display()))
        .args(["bs=1M", "skip=1377", "count=256", "status=none"]));
    // qemu quit as a power cut would: replay the file system's own journal
    // first (debugfs reads only what is committed to its place), as the
    // next boot's fsck would.
    let fsck = Command::new("e2fsck")
        .args(["-fy"])
        .arg(&part)
        .output()
        .unwrap();
    assert!(
        fsck.status.code().is_some_and(|c| c < 4),
        "e2fsck: {}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    let out = dir.join("journal");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("debugfs")
        .arg("-R")
        .arg(format!("rdump /journal {}", out.display()))
        .arg(&part));
    let files: Vec<PathBuf> = walk(&out.join("journal"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .collect();
    assert!(!files.is_empty(), "no journal on the data partition");
    // One file per boot (the read-only root has a transient machine-id);
    // a file the power cut left unsynced may not open, the rest must.
    let mut text = String::new();
    for f in &files {
        let o = Command::new("journalctl")
            .args(["--no-pager", "-o", "short-monotonic", "--file"])
            .arg(f)
            .output()
            .unwrap();
        if o.status.success() {
            text.push_str(&String::from_utf8_lossy(&o.stdout));
        }
    }
    text
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The monotonic time (seconds since the kernel started) of the first
/// journal line containing `what`, in the first boot.
fn at(journal: &str, what: &str) -> Option<f64> {
    journal
        .lines()
        .find(|l| l.contains(what))
        .and_then(|l| l.trim_start().strip_prefix('['))
        .and_then(|l| l.split(']').next())
        .and_then(|t| t.trim().parse().ok())
}

/// Tap James Carter and type his PIN on the pad.
fn sign_in(q: &mut Qmp, pin: &str) {
    q.tap(316, 328);
    std::thread::sleep(Duration::from_secs(1));
    type_pin(q, pin);
}

/// Digits on the PIN pad, then OK.
fn type_pin(q: &mut Qmp, pin: &str) {
    let keys = pin_pad();
    for d in pin.chars().chain(['K']) {
        let (x, y) = keys[&d];
        q.tap(x, y);
    }
}

/// Where the PIN pad's keys are on the 1280×800 lock screen (digits, and
/// 'K' for OK), as the software renderer lays them out with the fonts in
/// assets/fonts; the goldens above catch a layout that moved.
fn pin_pad() -> std::collections::HashMap<char, (u32, u32)> {
    let cols = [756, 943, 1131];
    let rows = [381, 465, 549, 633];
    let mut m = std::collections::HashMap::new();
    for (i, d) in "123456789".chars().enumerate() {
        m.insert(d, (cols[i % 3], rows[i / 3]));
    }
    m.insert('0', (940, 633));
    m.insert('K', (1126, 633));
    m
}
