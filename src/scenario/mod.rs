//! Scenarios: what a run requests and under which default load. Built-in ones live in
//! `scenarios/*.toml` and are embedded in the binary; users can run their own file.

mod catalog;
mod describe;
mod dotnet;
mod file;
mod listing;

pub use catalog::{builtin, find, resolve};
pub use describe::describe_long;
pub use file::Scenario;
pub use listing::listing;
