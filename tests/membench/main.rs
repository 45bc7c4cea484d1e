//! End-to-end tests of the `membench` binary: real processes, real HTTP over loopback.
//! One test binary, a module per area (the ripgrep layout).

mod support;

mod check;
mod cli;
mod completions;
mod dashboard;
mod diskfull;
mod formats;
mod gallery;
mod layout;
mod man;
mod netns;
mod probe;
mod promtool;
mod remote;
mod run;
mod runtimes;
mod safety;
mod selfcost;
mod serve;
mod sweep;
