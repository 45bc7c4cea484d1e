//! Scenarios: what a run requests and under which default load. Built-in ones live in
//! `scenarios/*.toml` and are embedded in the binary; users can run their own file.

mod catalog;
mod describe;
mod dotnet;
mod file;

pub use catalog::{LookupError, ResolvedRequest, builtin, find, resolve};
pub use describe::describe_long;
pub use dotnet::{AllocationSpec, DotnetSection, KindSpec, parse_lifetime};
pub use file::{ExpectSpec, LoadDefaults, Param, Scenario, ScenarioError, TomlValue};
