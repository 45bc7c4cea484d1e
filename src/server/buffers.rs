//! STUB — replaced by the family's implementation.
use super::diagnostics::Held;
use super::state::{ServerConfig, SharedState};
use axum::Router;

pub struct BufferPool;
impl BufferPool {
    pub fn new(_config: &ServerConfig) -> BufferPool {
        BufferPool
    }
    pub fn held(&self) -> Held {
        Held::default()
    }
    pub fn reset(&self) {}
}
pub fn routes() -> Router<SharedState> {
    Router::new()
}
