//! STUB — request counting per endpoint and error counting by kind.
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct RequestCounters;
impl RequestCounters {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
}

/// Failures by kind (`leak cap reached`, `address not available`, …).
#[derive(Default)]
pub struct ErrorCounters(Mutex<BTreeMap<String, u64>>);
impl ErrorCounters {
    /// Counts one failure of this kind.
    pub fn record(&self, kind: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(kind.to_string()).or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
