//! What the command-line tools share: standard output that ends quietly
//! when the reader has gone (`berth-facility review list | head -1`).
//!
//! Rust ignores SIGPIPE so that a closed socket is an error, not a death;
//! the tools talk TLS to the dock, so they keep that, and `println!` would
//! then panic on a closed pipe. Each binary shadows `println!`/`print!`
//! with macros that call [`write_stdout`].

use std::io::Write;

/// Write to standard output. When the reader has closed the pipe, exit
/// at once with status 0 and no message: the reader has what it wanted.
/// Any other write error ends the process with status 1 and one line.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(std::io::stderr(), "error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the binaries, through [`write_stdout`]. Each binary
/// imports it as `println` (`use berth::quiet_println as println;`).
#[macro_export]
macro_rules! quiet_println {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` for the binaries, through [`write_stdout`].
#[macro_export]
macro_rules! quiet_print {
    ($($t:tt)*) => { $crate::cli::write_stdout(format_args!($($t)*)) };
}
