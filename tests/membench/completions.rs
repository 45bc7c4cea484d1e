//! `membench completions SHELL`: a script per shell that names the subcommands, which
//! bash accepts as syntax.

use std::process::Command;

use crate::support::membench_output;

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = membench_output(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        for word in ["membench", "serve", "sweep", "completions", "--allocator"] {
            assert!(script.contains(word), "{shell}: no {word} in\n{script}");
        }
    }
}

#[test]
fn the_bash_script_is_valid_bash_and_an_unknown_shell_is_a_usage_error() {
    let output = membench_output(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("membench.bash");
    std::fs::write(&path, &output.stdout).unwrap();
    if let Ok(check) = Command::new("bash").arg("-n").arg(&path).output() {
        assert!(check.status.success(), "bash -n: {check:?}");
    }

    let output = membench_output(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tcsh") && stderr.contains("bash"),
        "{stderr}"
    );
}
