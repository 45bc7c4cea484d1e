//! STUB — replaced by the family's implementation.
use super::diagnostics::Held;
use super::state::{ServerConfig, SharedState};
use axum::Router;

pub struct Watchers;
impl Watchers {
    pub fn new(_config: &ServerConfig) -> anyhow::Result<Watchers> {
        Ok(Watchers)
    }
    pub fn held(&self) -> Held {
        Held::default()
    }
    pub fn reset(&self) {}
}
pub fn routes() -> Router<SharedState> {
    Router::new()
}
