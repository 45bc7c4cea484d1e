//! The command line as a new user meets it: help, the scenario list, and bad input that
//! gets a message naming what was wrong and exit code 2, before any server starts.

use crate::support::membench_output;

fn stderr_of(args: &[&str]) -> (i32, String) {
    let output = membench_output(args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn list_shows_every_scenario_with_its_aliases() {
    let output = membench_output(&["list"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for name in [
        "bigstring",
        "staticstring",
        "loh",
        "pooledarray",
        "httpclient1",
        "large-object",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[test]
fn an_unknown_scenario_lists_the_known_ones_and_exits_2() {
    let (code, stderr) = stderr_of(&["run", "lohh"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("\"lohh\"") && stderr.contains("staticstring"),
        "{stderr}"
    );
}

#[test]
fn a_bad_size_quotes_the_input() {
    let (code, stderr) = stderr_of(&["run", "loh", "--size", "abc"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"abc\""), "{stderr}");
    let (code, stderr) = stderr_of(&["run", "loh", "--size", "1TiB"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--size") && stderr.contains("64.0 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_bad_duration_or_rate_quotes_the_input() {
    let (code, stderr) = stderr_of(&["run", "bigstring", "--duration", "ten"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"ten\""), "{stderr}");
    let (code, stderr) = stderr_of(&["run", "bigstring", "--rate", "fast"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"fast\""), "{stderr}");
}

#[test]
fn a_size_for_a_scenario_without_one_is_refused() {
    let (code, stderr) = stderr_of(&["run", "bigstring", "--size", "100"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("size"), "{stderr}");
}

#[test]
fn a_bad_target_url_is_refused() {
    let (code, stderr) = stderr_of(&["run", "--target", "ftp://127.0.0.1/", "--pid", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ftp://127.0.0.1/"), "{stderr}");
}

#[test]
fn an_unwritable_output_directory_fails_before_the_run() {
    let (code, stderr) = stderr_of(&["run", "bigstring", "--out", "/proc/membench-cannot-write"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("/proc/membench-cannot-write"), "{stderr}");
}

/// One error style: a range check in the value parser, so every command says the same
/// thing about the same mistake, quoting what was typed, and exits 2.
#[test]
fn the_same_mistake_reads_alike_on_every_command() {
    let connections = |args: &[&str]| {
        let (code, stderr) = stderr_of(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        stderr
            .lines()
            .next()
            .unwrap_or_default()
            .replace("<CONNECTIONS>", "")
    };
    let run = connections(&["run", "bigstring", "--connections", "0"]);
    let load = connections(&["load", "http://127.0.0.1:9/", "--connections", "0"]);
    assert_eq!(run, load, "run and load differ");
    assert!(run.contains("\"0\"") && run.contains("at least 1"), "{run}");
    assert_eq!(
        connections(&["sweep", "--connections", "0"]),
        run,
        "sweep differs"
    );

    for args in [
        &["run", "bigstring", "--duration", "-1"][..],
        &["load", "http://127.0.0.1:9/", "--duration", "-1"],
        &["sweep", "--warmup", "-1s"],
    ] {
        let (code, stderr) = stderr_of(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("cannot be negative"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("\"{}\"", args[args.len() - 1])),
            "{stderr}"
        );
    }

    for args in [
        &["run", "loh", "--size", "100GiB"][..],
        &["compare", "--run", "loh", "--size", "100GiB"],
    ] {
        let (code, stderr) = stderr_of(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("\"100GiB\"") && stderr.contains("64.0 MiB"),
            "{args:?}: {stderr}"
        );
    }
}
