//! `membench list`: the built-in scenarios, one line each.

use std::process::ExitCode;

use crate::scenario;

/// Prints name, aliases and description of every built-in scenario.
pub fn list() -> anyhow::Result<ExitCode> {
    let scenarios = scenario::builtin();
    let name_width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let alias_width = scenarios
        .iter()
        .map(|s| s.aliases.join(", ").len())
        .max()
        .unwrap_or(0);
    println!(
        "{:name_width$}  {:alias_width$}  DESCRIPTION",
        "NAME", "ALIASES"
    );
    for scenario in &scenarios {
        println!(
            "{:name_width$}  {:alias_width$}  {}",
            scenario.name,
            scenario.aliases.join(", "),
            scenario.description
        );
    }
    println!(
        "\nRun one with `membench run NAME` (e.g. `membench run loh --size 84976`), or `membench run ./my-scenario.toml`."
    );
    Ok(ExitCode::SUCCESS)
}
