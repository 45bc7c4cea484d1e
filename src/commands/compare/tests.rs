//! `membench compare` on saved run directories and planned runs.
use super::*;
use crate::cli::{Cli, Command};
use crate::report::compare::tests::three_run_dirs;
use clap::Parser;

fn parse(args: &[&str]) -> CompareArgs {
    let cli = Cli::try_parse_from(["membench", "compare"].iter().chain(args)).unwrap();
    match cli.command {
        Command::Compare(args) => args,
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn compare_writes_figure_and_notes_from_saved_run_directories() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, _) = three_run_dirs(root.path());
    for overlay in [false, true] {
        let out = root.path().join(if overlay { "overlay" } else { "side" });
        let mut argv: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        argv.extend(["--out".into(), out.display().to_string()]);
        if overlay {
            argv.push("--overlay".into());
        }
        let args = parse(&argv.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(compare(args).unwrap(), Outcome::Success);
        let image = image::open(out.join("compare.png")).unwrap().to_rgb8();
        let expected = if overlay {
            crate::report::CHART_SIZE_PX
        } else {
            crate::report::side_by_side_size_px(3)
        };
        assert_eq!(image.dimensions(), expected);
        let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 50, "only {} colours", colours.len());
        assert!(out.join("compare.svg").is_file());
        let notes = std::fs::read_to_string(out.join("compare.md")).unwrap();
        assert!(notes.contains("![comparison](compare.png)"), "{notes}");
        assert!(notes.contains("| staticstring · jemalloc |"), "{notes}");
        assert!(notes.contains(&dirs[2].display().to_string()), "{notes}");
    }
}

#[test]
fn run_combinations_multiply_and_are_counted_before_anything_runs() {
    let args = parse(&[
        "--run",
        "loh,bigstring",
        "--size",
        "84975,84976",
        "--allocator",
        "system,jemalloc",
    ]);
    let wanted = wanted_runs(&args);
    assert_eq!(wanted.len(), 8);
    assert_eq!(
        wanted[1].describe(),
        "--run loh --size 84975 --allocator jemalloc"
    );
    // 8 runs are more than a comparison takes: refused with exit 2, nothing run.
    let out = tempfile::tempdir().unwrap();
    let mut args = args;
    args.out = Some(out.path().join("never"));
    assert_eq!(compare(args).unwrap(), Outcome::Usage);
    assert!(!out.path().join("never").exists());
}

#[test]
fn one_directory_or_a_missing_summary_exits_2() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, _) = three_run_dirs(root.path());
    let out = root.path().join("out");
    let one = parse(&[dirs[0].to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(compare(one).unwrap(), Outcome::Usage);
    std::fs::remove_file(dirs[1].join("summary.json")).unwrap();
    let two = parse(&[
        dirs[0].to_str().unwrap(),
        dirs[1].to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(compare(two).unwrap(), Outcome::Usage);
    assert!(!out.exists(), "nothing written for a refused comparison");
}

#[test]
fn run_plans_use_run_defaults_and_nest_under_the_comparison() {
    let args = parse(&["--run", "loh", "--size", "84976", "--duration", "5s"]);
    let wanted = wanted_runs(&args);
    let plan = match wanted[0].plan(Path::new("results/cmp"), &args) {
        Ok(plan) => plan,
        Err(_) => panic!("loh --size 84976 plans"),
    };
    assert_eq!(
        plan.out_dir,
        Path::new("results/cmp/loh-size84976-jemalloc")
    );
    assert_eq!(plan.path, "/api/loh/84976");
    assert_eq!(
        plan.stop,
        crate::loadgen::StopAt::Duration(std::time::Duration::from_secs(5))
    );
    // `membench run`'s own defaults: 2 s warm-up, 250 ms interval.
    assert_eq!(plan.warmup, std::time::Duration::from_secs(2));
    assert_eq!(plan.interval, std::time::Duration::from_millis(250));
    let unknown = parse(&["--run", "nosuchscenario"]);
    assert!(matches!(
        wanted_runs(&unknown)[0].plan(Path::new("x"), &unknown),
        Err(PlanError::Usage(message)) if message.contains("nosuchscenario")
    ));
}
