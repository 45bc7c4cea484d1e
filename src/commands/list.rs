//! `membench list`: the built-in scenarios, one line each; `--long` adds, per scenario,
//! what it teaches, where it comes from, its request and parameters, its default load,
//! what each run is checked against and what feeds the modelled .NET GC. Everything is
//! read from the scenario files, so the list cannot drift from what `run` does.

use super::Outcome;
use crate::cli::{ListArgs, OutputFormat};
use crate::runner::Runtime;
use crate::scenario::{self, Scenario};

/// Prints every built-in scenario, short or long.
pub fn list(args: &ListArgs) -> anyhow::Result<Outcome> {
    if args.runtimes {
        return Ok(list_runtimes());
    }
    let scenarios = scenario::builtin();
    if args.format == OutputFormat::Json {
        let listing = scenario::listing(
            &scenarios,
            crate::runner::DEFAULT_CONNECTIONS,
            crate::runner::DEFAULT_DURATION,
        );
        println!("{}", serde_json::to_string_pretty(&listing)?);
        return Ok(Outcome::Success);
    }
    if args.long {
        for scenario in &scenarios {
            print!("{}", scenario::describe_long(scenario));
            println!();
        }
    } else {
        print!("{}", table(&scenarios));
    }
    println!(
        "Run one with `membench run NAME` (e.g. `membench run loh --size 84976`), or `membench run ./my-scenario.toml`."
    );
    if !args.long {
        println!("`membench list --long` says what each one teaches and expects.");
    }
    Ok(Outcome::Success)
}

/// Each `--runtime`, with its toolchain's version or the package that is missing.
fn list_runtimes() -> Outcome {
    println!("RUNTIME  AVAILABLE");
    for runtime in Runtime::ALL {
        match runtime.check() {
            Ok(version) if runtime == Runtime::Rust => {
                println!(
                    "{:<7}  yes: membench serve {version} (counting allocator, modelled .NET GC)",
                    runtime.name()
                );
            }
            Ok(version) => println!("{:<7}  yes: {version}", runtime.name()),
            Err(_) => println!(
                "{:<7}  no: install it with `sudo apt-get install {}`",
                runtime.name(),
                runtime.packages()
            ),
        }
    }
    println!(
        "Run one with `membench run bigstring --runtime mono`; pass flags with --runtime-arg (e.g. -Xmx512m, GOGC=50)."
    );
    Outcome::Success
}

/// Name, aliases and description, one scenario a line, columns aligned.
fn table(scenarios: &[Scenario]) -> String {
    let name_width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let alias_width = scenarios
        .iter()
        .map(|s| s.aliases.join(", ").len())
        .max()
        .unwrap_or(0)
        .max("ALIASES".len());
    let mut text = format!(
        "{:name_width$}  {:alias_width$}  DESCRIPTION\n",
        "NAME", "ALIASES"
    );
    for scenario in scenarios {
        text.push_str(&format!(
            "{:name_width$}  {:alias_width$}  {}\n",
            scenario.name,
            scenario.aliases.join(", "),
            scenario.description
        ));
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_list_has_one_line_per_scenario_and_aligned_columns() {
        let scenarios = scenario::builtin();
        let text = table(&scenarios);
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), scenarios.len() + 1, "{text}");
        let column = lines[0].find("DESCRIPTION").unwrap();
        for (line, scenario) in lines[1..].iter().zip(&scenarios) {
            assert_eq!(line.find(&scenario.description), Some(column), "{line}");
        }
    }
}
