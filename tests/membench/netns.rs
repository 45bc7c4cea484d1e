//! Tests across a real network boundary: the pattern server runs in a network namespace of
//! its own, membench runs in a second one, and a veth pair with addresses of the test's own
//! (10.213.N.1 and .2 in a /30, N unique per test) is the only way between them. Nothing is
//! added to the machine's own namespace, so parallel tests (and other test binaries) cannot
//! collide on an address or a route.
//!
//! [`Netns`] owns both namespaces and the server; its `Drop` kills the server and deletes the
//! namespaces (which deletes the veth pair with them) even when the test panics. A test binary
//! killed outright leaves `mbt-<pid>-…` namespaces behind; the first test of the next run
//! sweeps those whose pid is gone ([`sweep_stale`]).
//!
//! The namespaces need root and `ip netns` (iproute2). Without them the tests print why and
//! return; with `MEMBENCH_REQUIRE_NETNS` set (`.ci/run` sets it when it runs as root) they
//! fail instead, so CI cannot pass by skipping.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::support::{json, wait_until};

/// Prefix of every namespace these tests create; the sweep deletes only names with it.
const PREFIX: &str = "mbt-";

/// The next test's number in this process: its namespace names and its /30.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// Serializes namespace setup: the first `ip netns add` on a machine makes /run/netns a
/// shared mount, and two doing that at once can fail.
static SETUP: Mutex<()> = Mutex::new(());

/// Why network namespaces cannot be used here, if they cannot.
fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("?");
    if euid != "0" {
        return Some(format!(
            "not root (effective uid {euid}); `ip netns add` needs root"
        ));
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Err(err) => Some(format!(
            "`ip` cannot be run ({err}); install iproute2 for `ip netns`"
        )),
        Ok(out) if !out.status.success() => Some(format!(
            "`ip netns list` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => None,
    }
}

/// Runs `ip ARGS`, panicking with its stderr when it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Deletes the `mbt-<pid>-…` namespaces of test processes that no longer run, after killing
/// any process still inside them (a server a killed test left behind).
fn sweep_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(owner) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        if let Ok(pids) = Command::new("ip").args(["netns", "pids", name]).output() {
            for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip").args(["netns", "del", name]).status();
        let _ = writeln!(
            std::io::stderr(),
            "netns: deleted stale namespace {name} of exited test process {owner}"
        );
    }
}

/// A `membench serve` in its own network namespace, reached from a second namespace over
/// a veth pair. Dropping it kills the server and deletes both namespaces.
pub struct Netns {
    /// Namespace of the server (`mbt-<pid>-<n>-server`).
    server_ns: String,
    /// Namespace membench's client commands run in (`mbt-<pid>-<n>-client`).
    client_ns: String,
    /// The server process (`ip netns exec` execs it, so this is membench's own pid).
    server: Option<Child>,
    /// Where the server listens: its veth address and the port it picked.
    pub addr: SocketAddr,
}

impl Netns {
    /// Sets up both namespaces and starts the server, or prints why it cannot and returns
    /// `None` (a panic instead when `MEMBENCH_REQUIRE_NETNS` is set).
    pub fn start() -> Option<Netns> {
        if let Some(reason) = unavailable() {
            if std::env::var_os("MEMBENCH_REQUIRE_NETNS").is_some() {
                panic!("network namespace tests are required here, but {reason}");
            }
            // Written to stderr directly, past the test harness's capture, so a skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "netns: skipped ({reason}); set MEMBENCH_REQUIRE_NETNS=1 to fail instead"
            );
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < 16384, "10.213.0.0/16 holds 16384 /30 subnets");
        let base = format!("{PREFIX}{}-{n}", std::process::id());
        // The guard exists before the first namespace does, so a failed step still cleans up.
        let mut netns = Netns {
            server_ns: format!("{base}-server"),
            client_ns: format!("{base}-client"),
            server: None,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let server_ip = Ipv4Addr::new(10, 213, (n / 64) as u8, (n % 64 * 4 + 1) as u8);
        let client_ip = Ipv4Addr::new(10, 213, (n / 64) as u8, (n % 64 * 4 + 2) as u8);
        {
            let _setup = SETUP
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            sweep_stale();
            let (server, client) = (netns.server_ns.as_str(), netns.client_ns.as_str());
            ip(&["netns", "add", server]);
            ip(&["netns", "add", client]);
            ip(&[
                "link", "add", "veth0", "netns", server, "type", "veth", "peer", "name", "veth0",
                "netns", client,
            ]);
            for (ns, addr) in [(server, server_ip), (client, client_ip)] {
                ip(&[
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("{addr}/30"),
                    "dev",
                    "veth0",
                ]);
                ip(&["-n", ns, "link", "set", "veth0", "up"]);
                ip(&["-n", ns, "link", "set", "lo", "up"]);
            }
        }
        // The kernel activates a link's queue only when its link watcher reports the
        // carrier, up to a second after `set up`; packets sent before that are dropped, so
        // a short test would see no response at all. Wait for both ends to be UP.
        for ns in [&netns.server_ns, &netns.client_ns] {
            let up = wait_until(Duration::from_secs(10), || {
                Command::new("ip")
                    .args(["-n", ns, "-o", "link", "show", "veth0"])
                    .output()
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("state UP"))
            });
            assert!(up, "veth0 in {ns} did not come up within 10 s");
        }
        let bind = format!("{server_ip}:0");
        let mut child = netns
            .exec(&netns.server_ns)
            .args(["serve", "--addr", &bind, "--allow-remote"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ip netns exec … membench serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        netns.server = Some(child);
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its listening line");
        netns.addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?} from the server"))
            .parse()
            .expect("an address");
        // The boundary is real: the server's network namespace is not the test's.
        let theirs = std::fs::read_link(format!("/proc/{}/ns/net", netns.pid())).unwrap();
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        assert_ne!(theirs, ours, "the server runs in a namespace of its own");
        Some(netns)
    }

    /// The server's pid (same PID namespace as the test: only the network is apart).
    pub fn pid(&self) -> u32 {
        self.server.as_ref().expect("the server runs").id()
    }

    /// `http://ADDR{path}` on the server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `ip netns exec NS membench` with the environment the other tests give membench.
    fn exec(&self, ns: &str) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_membench")])
            .env_remove("MEMBENCH_ALLOCATOR")
            .env("NO_COLOR", "1");
        command
    }

    /// membench in the client namespace, the other side of the veth from the server.
    pub fn client(&self) -> Command {
        self.exec(&self.client_ns)
    }

    /// Runs membench in the client namespace to completion.
    pub fn client_output(&self, args: &[&str]) -> Output {
        self.client().args(args).output().expect("membench runs")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting a namespace destroys its end of the veth pair, and with it the pair.
        for ns in [&self.server_ns, &self.client_ns] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The values of one samples.csv column, `None` where a row leaves it empty.
fn column(samples: &Path, name: &str) -> Vec<Option<String>> {
    let mut reader = csv::Reader::from_path(samples)
        .unwrap_or_else(|err| panic!("{}: {err}", samples.display()));
    let headers = reader.headers().expect("a header row").clone();
    let index = headers
        .iter()
        .position(|header| header == name)
        .unwrap_or_else(|| panic!("no column {name} in {headers:?}"));
    reader
        .records()
        .map(|record| {
            let record = record.expect("a CSV record");
            Some(record[index].to_string()).filter(|value| !value.is_empty())
        })
        .collect()
}

/// Asserts a run's results directory holds samples with RSS in them and a chart that decodes.
fn assert_results_with_rss(out: &Path, report: &str) {
    let rss = column(&out.join("samples.csv"), "rss_bytes");
    assert!(!rss.is_empty(), "no samples\n{report}");
    let measured: Vec<u64> = rss
        .iter()
        .flatten()
        .map(|value| value.parse().expect("rss_bytes is a number of bytes"))
        .collect();
    assert!(
        !measured.is_empty() && measured.iter().all(|&bytes| bytes > 0),
        "rss_bytes {rss:?}\n{report}"
    );
    let chart = image::open(out.join("chart.png")).expect("chart.png decodes");
    assert!(chart.width() > 0 && chart.height() > 0);
    assert!(out.join("chart.svg").is_file(), "chart.svg\n{report}");
    assert!(out.join("summary.json").is_file(), "summary.json\n{report}");
}

/// The output of a command, for assertion messages.
fn report(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn load_reaches_a_server_across_a_veth() {
    let Some(netns) = Netns::start() else { return };
    let url = netns.url("/api/ping");
    let output = netns.client_output(&[
        "load",
        &url,
        "--duration",
        "1s",
        "--connections",
        "4",
        "--format",
        "json",
    ]);
    let report = report(&output);
    assert!(output.status.success(), "{report}");
    let totals = json(&String::from_utf8_lossy(&output.stdout));
    assert!(totals["rps"].as_f64().unwrap() > 0.0, "{report}");
    assert!(totals["status_2xx"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(totals["errors"], 0, "{report}");
    assert_eq!(
        totals["status_4xx"], 0,
        "the Host guard lets the bound address in\n{report}"
    );
}

#[test]
fn run_with_pid_samples_a_server_across_a_veth() {
    let Some(netns) = Netns::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let pid = netns.pid().to_string();
    let output = netns.client_output(&[
        "run",
        "ping",
        "--target",
        &netns.url("/api/ping"),
        "--pid",
        &pid,
        "--duration",
        "1s",
        "--warmup",
        "250ms",
        "--connections",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    let report = report(&output);
    assert!(output.status.success(), "{report}");
    let rps = column(&out.join("samples.csv"), "rps");
    assert!(
        rps.iter()
            .flatten()
            .any(|value| value.parse::<f64>().unwrap() > 0.0),
        "rps {rps:?}\n{report}"
    );
    assert_results_with_rss(&out, &report);
}

#[test]
fn run_with_metrics_samples_a_server_across_a_veth() {
    let Some(netns) = Netns::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // No --pid: the target's memory comes from its /metrics alone, across the veth.
    let output = netns.client_output(&[
        "run",
        "bigstring",
        "--target",
        &netns.url("/api/bigstring"),
        "--metrics",
        &netns.url("/metrics"),
        "--duration",
        "2s",
        "--warmup",
        "250ms",
        "--connections",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    let report = report(&output);
    assert!(output.status.success(), "{report}");
    assert_results_with_rss(&out, &report);
}

#[test]
fn watch_samples_a_server_across_a_veth_while_load_drives_it() {
    let Some(netns) = Netns::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("watch");
    // membench load stands in for any load engine: watch only samples. The load outlasts
    // the watch and is stopped when the watch ends.
    let mut load = netns
        .client()
        .args([
            "load",
            &netns.url("/api/bigstring"),
            "--duration",
            "10s",
            "--connections",
            "4",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("membench load starts");
    let output = netns.client_output(&[
        "watch",
        "--metrics",
        &netns.url("/metrics"),
        "--duration",
        "2s",
        "--interval",
        "250ms",
        "--out",
        out.to_str().unwrap(),
    ]);
    let _ = load.kill();
    let load = load.wait_with_output().expect("membench load ends");
    let report = format!("{}\nload: {}", report(&output), report(&load));
    assert!(output.status.success(), "{report}");
    assert_results_with_rss(&out, &report);
}

#[test]
fn namespaces_left_by_a_killed_test_run_are_swept() {
    if unavailable().is_some() {
        // Netns::start says why (or fails where the namespaces are required).
        let _ = Netns::start();
        return;
    }
    // A pid no process can have (pids stay below pid_max) stands for a killed test run.
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
    let stale = format!("{PREFIX}{}-0-server", pid_max.trim());
    ip(&["netns", "add", &stale]);
    let mut left_behind = Command::new("ip")
        .args(["netns", "exec", &stale, "sleep", "60"])
        .spawn()
        .expect("a process inside the stale namespace");
    let _netns = Netns::start().expect("namespaces are available (checked above)");
    let listed = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    let swept = !listed
        .lines()
        .any(|line| line.split_whitespace().next() == Some(&stale));
    let killed = wait_until(Duration::from_secs(10), || {
        left_behind.try_wait().unwrap().is_some()
    });
    if !killed {
        let _ = left_behind.kill();
        let _ = left_behind.wait();
    }
    if !swept {
        let _ = Command::new("ip").args(["netns", "del", &stale]).status();
    }
    assert!(swept, "{stale} is still there:\n{listed}");
    assert!(killed, "the process left in {stale} was not killed");
}
