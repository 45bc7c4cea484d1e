//! `/metrics` as the Prometheus ecosystem reads it: a real server's scrape piped through
//! `promtool check metrics` (Debian's `prometheus` package), and OpenMetrics for a client
//! that asks for it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::Server;

/// `GET /metrics` with an optional `Accept`; returns status, `Content-Type` and body.
fn scrape(addr: SocketAddr, accept: Option<&str>) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let accept = accept.map_or(String::new(), |accept| format!("Accept: {accept}\r\n"));
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

/// Runs `promtool check metrics` on `text`: None when promtool is not installed.
fn promtool_check(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => panic!("cannot run promtool: {err}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let output = child.wait_with_output().expect("promtool ends");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), said))
}

#[test]
fn metrics_pass_promtool_check_metrics() {
    let server = Server::start(&[]);
    // Give the labelled families samples: a pattern request, an error and no route.
    server.request("GET", "/api/staticstring");
    server.request("GET", "/api/array/0");
    server.request("GET", "/no/such/path");
    let (status, content_type, text) = scrape(server.addr, None);
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");

    let Some((passed, said)) = promtool_check(&text) else {
        if std::env::var("MEMBENCH_SKIP_PROMTOOL").is_ok_and(|value| value == "1") {
            eprintln!("promtool is not installed: skipped (MEMBENCH_SKIP_PROMTOOL=1)");
            return;
        }
        panic!(
            "promtool is not installed: install the `prometheus` package \
             (apt-get install --no-install-recommends prometheus; .ci/run unpacks its promtool itself), \
             or set MEMBENCH_SKIP_PROMTOOL=1 to skip this test"
        );
    };
    assert!(
        passed && said.trim().is_empty(),
        "promtool check metrics:\n{said}\non\n{text}"
    );
}

#[test]
fn openmetrics_for_a_client_that_asks_for_it() {
    let server = Server::start(&[]);
    server.request("GET", "/api/staticstring");
    // What Prometheus 2.x sends.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                  version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (status, content_type, text) = scrape(server.addr, Some(accept));
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(text.ends_with("\n# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE membench_requests counter\n")
            && text.contains("membench_requests_total{endpoint=\"/api/staticstring\"} 1\n")
            && text.contains(
                "# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n"
            )
            && text.contains("# TYPE membench_server info\n"),
        "{text}"
    );
}
