//! Ctrl-C and SIGTERM during a run: the first one asks the run to stop and write what it
//! has; the runner polls [`requested`]. The handler is installed once per process.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Installs the handler (once) and clears any earlier request.
pub fn arm() {
    INSTALL.call_once(|| {
        // If another handler is already installed (embedding), runs simply cannot be
        // interrupted early; they still end by themselves.
        let _ = ctrlc::set_handler(|| REQUESTED.store(true, Ordering::SeqCst));
    });
    REQUESTED.store(false, Ordering::SeqCst);
}

/// The flag itself, for loops that take an `&AtomicBool` (`membench load`).
pub fn flag() -> &'static AtomicBool {
    &REQUESTED
}

/// Whether Ctrl-C (or SIGTERM) arrived since [`arm`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
