//! The man pages in `docs/man/` (`membench.1` and one per subcommand, `membench-run.1`, …)
//! are generated from the clap definition by `clap_mangen`; this test regenerates them in
//! memory and fails when a committed page is stale, missing or left over. Refresh them
//! with:
//!
//! ```text
//! MEMBENCH_UPDATE_MAN=1 cargo test --release --test membench man_pages
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("man")
}

/// Every page by file name. The version is the package's alone: the git commit that
/// `--version` adds would make every commit leave the pages stale.
fn rendered_pages() -> BTreeMap<String, Vec<u8>> {
    fn render(command: clap::Command, pages: &mut BTreeMap<String, Vec<u8>>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            render(sub.clone(), pages);
        }
        let man = clap_mangen::Man::new(command);
        let mut page = Vec::new();
        man.render(&mut page).expect("render into memory");
        pages.insert(man.get_filename(), page);
    }
    let mut command = membench::cli::Cli::command()
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(true);
    command.build();
    let mut pages = BTreeMap::new();
    render(command, &mut pages);
    pages
}

#[test]
fn man_pages_are_current() {
    let pages = rendered_pages();
    let dir = man_dir();
    if std::env::var_os("MEMBENCH_UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "1") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (name, page) in &pages {
            std::fs::write(dir.join(name), page).unwrap();
        }
        return;
    }
    let refresh = "refresh them with `MEMBENCH_UPDATE_MAN=1 cargo test --release --test membench man_pages` and commit docs/man";
    let committed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}; {refresh}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".1"))
        .collect();
    for name in &committed {
        assert!(
            pages.contains_key(name),
            "docs/man/{name} documents no command any more; {refresh}"
        );
    }
    for (name, page) in &pages {
        let on_disk = std::fs::read(dir.join(name)).unwrap_or_default();
        assert!(
            on_disk == *page,
            "docs/man/{name} is stale (the clap definition changed); {refresh}"
        );
    }
    assert!(pages.contains_key("membench.1") && pages.contains_key("membench-run.1"));
}
