//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during a run: the first asks the run to stop and
//! write what it has — the runner polls [`requested`] on every pass of its loop — and a
//! second one ends membench at once (exit 128 + the signal), for a run stuck on a full
//! disk or a hung server. The handlers are installed once per process, with
//! `signal-hook`'s flags: setting an atomic is all a handler may safely do.
//!
//! A request stays set once made: a sweep or a comparison interrupted between two runs
//! stops there, it does not start the next run.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;

/// Any of the signals arrived.
static ANY: AtomicBool = AtomicBool::new(false);
/// SIGINT arrived (Ctrl-C).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// SIGTERM or SIGHUP arrived (a service manager, a closed terminal).
static TERMINATED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Which signal asked the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C: exit code 130.
    Interrupt,
    /// SIGTERM or SIGHUP: exit code 143.
    Terminate,
}

/// Installs the handlers (once per process).
pub fn arm() {
    INSTALL.call_once(|| {
        for (signal, which) in [
            (SIGINT, &INTERRUPTED),
            (SIGTERM, &TERMINATED),
            (SIGHUP, &TERMINATED),
        ] {
            // The shutdown goes first, so it only fires when an earlier signal has set
            // ANY already. If a handler cannot be installed (an embedding that forbids
            // it), runs simply cannot be stopped early; they still end by themselves.
            let _ = flag::register_conditional_shutdown(signal, 128 + signal, &ANY);
            let _ = flag::register(signal, &ANY);
            let _ = flag::register(signal, which);
        }
    });
}

/// The flag any of the signals sets, for loops that take an `&AtomicBool` (`membench load`).
pub fn flag() -> &'static AtomicBool {
    &ANY
}

/// Whether a signal asked the run to stop since the process started, and which
/// (Ctrl-C wins when both came).
pub fn requested() -> Option<Stop> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        Some(Stop::Interrupt)
    } else if TERMINATED.load(Ordering::SeqCst) || ANY.load(Ordering::SeqCst) {
        Some(Stop::Terminate)
    } else {
        None
    }
}
