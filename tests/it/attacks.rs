//! Strangers on the facility LAN try to exhaust a real `berth-dock serve`
//! process over loopback: big frames before identity, thousands of
//! connections, slowloris, and a low open-file limit. After each attack a
//! real tablet still syncs and the mail gateway still imports, and the
//! dock's memory stays bounded. Every loop is bounded; waits have a
//! deadline and fail the test when it passes.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::FromRawFd;
use std::process::Child;
use std::time::{Duration, Instant};

use berth::trust::{SigningKey, channel};

use crate::helpers::eventually;
use crate::sync::DockWorld;

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// A TCP connection to `to` from the loopback address `from` (any
/// 127.x.y.z works on Linux without set-up).
fn connect_from(from: Ipv4Addr, to: &str) -> Option<TcpStream> {
    let to: SocketAddrV4 = to.parse().unwrap();
    // SAFETY: plain socket calls on a descriptor this function owns; on
    // success it is handed to TcpStream, which closes it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return None;
        }
        let addr = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let src = addr(from, 0);
        let dst = addr(*to.ip(), to.port());
        if libc::bind(fd, &src as *const _ as *const libc::sockaddr, len) != 0
            || libc::connect(fd, &dst as *const _ as *const libc::sockaddr, len) != 0
        {
            libc::close(fd);
            return None;
        }
        Some(TcpStream::from_raw_fd(fd))
    }
}

/// A stranger: a fresh Ed25519 key that completes the TLS handshake.
fn stranger(
    dw: &DockWorld,
    from: Ipv4Addr,
    to: &str,
) -> Option<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate_to_file(&dir.path().join("k.pk8")).unwrap();
    let (config, name) = channel::client_config(&key, dw.w.facility.root().dock_keys()).unwrap();
    let tcp = connect_from(from, to)?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).ok()?;
    }
    Some(tls)
}

/// Is the connection closed by the dock (EOF or reset)?
fn closed(s: &mut TcpStream) -> bool {
    s.set_nonblocking(true).ok();
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A real sync and a real mail import against the dock at `addr`.
fn still_serves(
    dw: &DockWorld,
    t: &std::sync::Mutex<berth::tablet::Tablet>,
    addr: &str,
    tag: &str,
) {
    berth::sync::client::sync(t, addr, &mut |_| {})
        .unwrap_or_else(|e| panic!("{tag}: a real sync failed: {e}"));
    let mail = format!(
        "From: ana.gonzalez@example.org\r\nTo: a12345@letters.berth.invalid\r\nSubject: {tag}\r\n\r\nSigo aquí ({tag}).\r\n"
    );
    let name =
        berth::dock::gateway::deliver_to_maildir(&dw.data.join("gateway/maildir"), mail.as_bytes())
            .unwrap();
    let new = dw.data.join("gateway/maildir/new").join(&name);
    assert!(
        eventually(30, || !new.exists()),
        "{tag}: the mail import did not run"
    );
    let sha = berth::trust::sha256(mail.as_bytes()).to_hex();
    assert!(
        dw.data
            .join(format!("gateway/processed/{sha}.eml"))
            .exists(),
        "{tag}: the mail was not imported"
    );
}

fn serve(dw: &DockWorld, files: Option<u64>) -> (Child, String) {
    crate::crash::dock_process_with(dw, None, files)
}

#[test]
fn strangers_cannot_exhaust_the_dock() {
    let dw = DockWorld::new();
    std::fs::write(dw.data.join("dock.toml"), "handshake_seconds = 2\n").unwrap();
    let t = dw.tablet("tab-1");
    let (mut child, addr) = serve(&dw, None);
    let pid = child.id();
    still_serves(&dw, &t, &addr, "before");
    let base = rss_kib(pid);
    let mut report = vec![format!("start: {} MiB", base / 1024)];

    // 1. Memory before identity: eight strangers each send 62 MiB of a
    // 63 MiB frame and stall. Before, the dock held every byte.
    let senders: Vec<_> = (0..8u8)
        .map(|i| {
            let mut s = stranger(&dw, Ipv4Addr::new(127, 0, 1, 1 + i), &addr).expect("handshake");
            std::thread::spawn(move || {
                // A 63 MiB frame: 63 blobs of 1 MiB, the largest a blob may be.
                let mut head = Vec::new();
                head.extend_from_slice(&2u32.to_be_bytes());
                head.extend_from_slice(b"{}");
                head.extend_from_slice(&63u32.to_be_bytes());
                if s.write_all(&head).is_err() {
                    return s;
                }
                let mut blob = (1u32 << 20).to_be_bytes().to_vec();
                blob.extend_from_slice(&vec![0x5au8; 1 << 20]);
                for _ in 0..62 {
                    if s.write_all(&blob).is_err() {
                        break;
                    }
                }
                s
            })
        })
        .collect();
    let held: Vec<_> = senders.into_iter().map(|h| h.join().unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib(pid);
    report.push(format!(
        "8 strangers sending 62 MiB of 63 MiB frames: {} MiB",
        after / 1024
    ));
    assert!(
        after < base + 32 * 1024,
        "RSS went from {base} to {after} KiB"
    );
    still_serves(&dw, &t, &addr, "after big frames");
    drop(held);

    // 2. Many idle connections, from one address and from many.
    let mut idle = Vec::new();
    for i in 0..400u32 {
        let from = Ipv4Addr::new(127, 0, 2 + (i / 200) as u8, 1 + (i % 50) as u8);
        if let Some(s) = connect_from(from, &addr) {
            idle.push(s);
        }
    }
    assert!(
        idle.len() > 300,
        "the test could open only {} connections",
        idle.len()
    );
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kib(pid);
    report.push(format!(
        "{} idle connections: {} MiB",
        idle.len(),
        after / 1024
    ));
    assert!(
        after < base + 32 * 1024,
        "RSS went from {base} to {after} KiB"
    );
    still_serves(&dw, &t, &addr, "during idle connections");
    // The dock dropped most of them at once, and the rest at the deadline.
    assert!(
        eventually(20, || idle.iter_mut().all(closed)),
        "idle connections were held past the deadline"
    );
    drop(idle);

    // 3. Slowloris: a byte of a TLS hello every 300 ms.
    let mut slow: Vec<TcpStream> = (0..16u8)
        .filter_map(|i| connect_from(Ipv4Addr::new(127, 0, 4, 1 + i), &addr))
        .collect();
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(15) {
        for s in &mut slow {
            let _ = s.write_all(&[0x16]);
        }
        if slow.iter_mut().all(closed) {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(cut, "slow connections were held past the 2 s deadline");
    report.push(format!(
        "16 slowloris connections: {} MiB",
        rss_kib(pid) / 1024
    ));
    still_serves(&dw, &t, &addr, "after slowloris");
    let _ = child.kill();
    let _ = child.wait();

    // 4. A low open-file limit: 128 descriptors, and 200 strangers.
    let (mut child, addr) = serve(&dw, Some(128));
    let pid = child.id();
    let base = rss_kib(pid);
    let mut idle = Vec::new();
    for i in 0..200u32 {
        if let Some(s) = connect_from(Ipv4Addr::new(127, 0, 5, 1 + (i % 100) as u8), &addr) {
            idle.push(s);
        }
    }
    still_serves(&dw, &t, &addr, "with 128 files and 200 strangers");
    report.push(format!(
        "ulimit -n 128, {} strangers: {} → {} MiB",
        idle.len(),
        base / 1024,
        rss_kib(pid) / 1024
    ));
    drop(idle);
    let _ = child.kill();
    let _ = child.wait();
    println!("dock RSS under attack:\n  {}", report.join("\n  "));
}
