//! Safety of `membench serve` against hostile input (issue 14): a nested `url=` is refused
//! without the server's descriptors growing, a non-loopback bind needs `--allow-remote`,
//! a foreign `Host` or `Origin` gets 403, and clients that never read their answers cannot
//! hold more than `--max-inflight`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{Server, http, json, membench_output, raw_request, wait_until};

/// Open file descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

#[test]
fn a_nested_url_is_refused_and_the_fd_count_stays_flat() {
    let server = Server::start(&[]);
    let pid = server.child.id();
    let port = server.addr.port();
    // Warm up: the first requests open the pool's and the runtime's descriptors.
    server.request("GET", "/api/httpclient2");
    let before = open_fds(pid);
    // Ten levels of nesting, sent 50 times: before the fix each was 11 internal requests.
    let mut url = format!("http://127.0.0.1:{port}/api/ping");
    for _ in 0..10 {
        url = format!("http://127.0.0.1:{port}/api/httpclient2?url={url}");
    }
    for _ in 0..50 {
        let (status, body) = server.request("GET", &format!("/api/httpclient2?url={url}"));
        assert_eq!(status, 400, "{body}");
        assert!(
            json(&body)["error"]
                .as_str()
                .unwrap()
                .contains("leads back")
        );
    }
    let after = open_fds(pid);
    assert!(
        after <= before + 2,
        "descriptors grew from {before} to {after}"
    );
}

#[test]
fn a_non_loopback_addr_without_allow_remote_exits_2_with_the_reason() {
    let output = membench_output(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing was served");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("0.0.0.0:0"), "{stderr}");
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

#[test]
fn a_foreign_host_and_a_foreign_origin_get_403() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let (status, text) = raw_request(addr, "GET", "/api/diagnostics", "Host: evil.example\r\n");
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("evil.example"), "{text}");
    let origin = format!("Host: {addr}\r\nOrigin: http://evil.example\r\n");
    let (status, text) = raw_request(addr, "POST", "/api/reset", &origin);
    assert_eq!(status, 403, "{text}");
    // The server's own page may POST, and so may clients without an Origin.
    let own = format!("Host: {addr}\r\nOrigin: http://{addr}\r\n");
    assert_eq!(raw_request(addr, "POST", "/api/reset", &own).0, 200);
    assert_eq!(http(addr, "GET", "/api/diagnostics").0, 200);
}

#[test]
fn slow_readers_cannot_hold_more_than_max_inflight() {
    // 32 MiB answers, larger than what the loopback socket buffers take, against an 80 MiB
    // budget: two clients that never read hold 64 MiB of it, so a third 32 MiB does not fit.
    let server = Server::start(&["--max-inflight", "80MiB"]);
    let addr = server.addr;
    let size = 32 << 20;
    let path = format!("/api/array/{size}");
    let slow_readers: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).unwrap();
            write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
            // The status line arrives once the handler has run and the body is being sent.
            let mut head = [0u8; 12];
            stream.read_exact(&mut head).unwrap();
            assert_eq!(&head, b"HTTP/1.1 200");
            stream
        })
        .collect();
    let (status, body) = http(addr, "GET", &path);
    assert_eq!(status, 503, "{body}");
    let error = json(&body);
    assert_eq!(error["kind"], "server busy");
    assert!(error["error"].as_str().unwrap().contains("--max-inflight"));
    // Small answers still fit, and the budget comes back when the readers go away.
    assert_eq!(http(addr, "GET", "/api/array/1000").0, 200);
    drop(slow_readers);
    assert!(
        wait_until(Duration::from_secs(10), || http(addr, "GET", &path).0
            == 200),
        "the budget did not come back after the slow readers closed"
    );
}
