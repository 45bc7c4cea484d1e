//! What the OS says about a process: resident memory, CPU time, threads, open file
//! descriptors, page faults and TCP sockets by state. Two probes read it ([`ProbeKind`]):
//! the Linux one below (`/proc/<pid>`, everything) and the portable one
//! (`portable.rs`, `sysinfo`, any OS: RSS, CPU seconds, threads where sysinfo has them).
//! What a probe cannot read is `None`, never 0.
//!
//! The same probe serves the server (its own pid, for `/api/diagnostics`) and the runner
//! (the child's pid, or `--pid` of a server in any language), so both report identical
//! definitions.
//!
//! TCP sockets: ESTABLISHED, CLOSE_WAIT and LISTEN sockets belong to the process through
//! its file descriptors (socket inodes). A socket in TIME_WAIT belongs to nobody any more:
//! the kernel keeps it after the last close. So `time_wait` counts the TIME_WAIT sockets of
//! the process's network namespace that have one end on a port the process listens on
//! (for the client scenarios the upstream is the server itself), and
//! `time_wait_namespace` counts all of them.

#[cfg(target_os = "linux")]
use std::collections::HashSet;

#[cfg(target_os = "linux")]
use procfs::net::{TcpNetEntry, TcpState};
#[cfg(target_os = "linux")]
use procfs::process::{FDTarget, Process};
use serde::{Deserialize, Serialize};

use super::probe::{ProbeKind, probe_kind};

/// A reading of one process. Bytes, seconds and counts as the names say; `None` where
/// the probe that read it cannot see the figure (the portable probe: see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSnapshot {
    pub pid: u32,
    /// Resident set size (the working set).
    pub rss_bytes: u64,
    /// Anonymous resident memory: the heap and stacks, not mapped files (private bytes).
    pub rss_anon_bytes: Option<u64>,
    /// User plus system CPU time since the process started; callers take deltas.
    pub cpu_seconds: f64,
    /// User CPU time since the process started.
    pub cpu_user_seconds: Option<f64>,
    /// System CPU time since the process started.
    pub cpu_system_seconds: Option<f64>,
    /// Minor page faults since start (a fresh page touched for the first time).
    pub minor_faults: Option<u64>,
    /// Major page faults since start (a page read from disk).
    pub major_faults: Option<u64>,
    pub threads: Option<u64>,
    pub open_fds: Option<u64>,
    pub tcp: Option<TcpStates>,
}

/// TCP sockets of a process by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpStates {
    pub established: u64,
    pub close_wait: u64,
    pub listen: u64,
    /// Owned sockets in any other state (SYN_SENT, FIN_WAIT, …).
    pub other: u64,
    /// TIME_WAIT sockets with one end on a port this process listens on.
    pub time_wait: u64,
    /// Every TIME_WAIT socket in the process's network namespace.
    pub time_wait_namespace: u64,
}

/// Reads process `pid` now with the probe chosen at startup ([`probe_kind`]). Fails when
/// the process is gone.
pub fn read_process(pid: u32) -> std::io::Result<ProcessSnapshot> {
    read_process_with(probe_kind(), pid)
}

/// Reads the cheap part of process `pid` now with the probe chosen at startup: what one
/// or two small files say (on Linux `/proc/<pid>/stat` and `status`: RSS, anonymous RSS,
/// CPU, faults, threads), without walking every file descriptor or parsing the
/// namespace's TCP tables, so `open_fds` and `tcp` are `None`. The portable probe reads
/// what it always reads (it never walks those). Fails when the process is gone.
pub fn read_process_cheap(pid: u32) -> std::io::Result<ProcessSnapshot> {
    match probe_kind() {
        #[cfg(target_os = "linux")]
        ProbeKind::Linux => read_proc_cheap(pid).map_err(std::io::Error::other),
        ProbeKind::Portable => super::portable::read_process(pid),
    }
}

/// Reads process `pid` now with the given probe.
pub fn read_process_with(kind: ProbeKind, pid: u32) -> std::io::Result<ProcessSnapshot> {
    match kind {
        #[cfg(target_os = "linux")]
        ProbeKind::Linux => read_proc(pid).map_err(std::io::Error::other),
        ProbeKind::Portable => super::portable::read_process(pid),
    }
}

/// Resident set size of this process in bytes, 0 if unreadable.
pub fn own_rss_bytes() -> u64 {
    match probe_kind() {
        #[cfg(target_os = "linux")]
        ProbeKind::Linux => Process::myself()
            .and_then(|process| process.stat())
            .map(|stat| stat.rss * procfs::page_size())
            .unwrap_or(0),
        ProbeKind::Portable => super::portable::read_process(std::process::id())
            .map(|snapshot| snapshot.rss_bytes)
            .unwrap_or(0),
    }
}

/// The size of a memory page, bytes.
pub fn page_size() -> u64 {
    // SAFETY: sysconf only reads a constant of the system.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// Reads `/proc/<pid>` now. Fails when the process is gone.
#[cfg(target_os = "linux")]
fn read_proc(pid: u32) -> procfs::ProcResult<ProcessSnapshot> {
    let process = Process::new(pid as i32)?;
    let mut snapshot = stat_and_status(&process, pid)?;
    snapshot.open_fds = Some(process.fd_count().unwrap_or(0) as u64);
    snapshot.tcp = Some(tcp_states(&process).unwrap_or_default());
    Ok(snapshot)
}

/// Reads `/proc/<pid>/stat` and `status` only (see [`read_process_cheap`]).
#[cfg(target_os = "linux")]
fn read_proc_cheap(pid: u32) -> procfs::ProcResult<ProcessSnapshot> {
    stat_and_status(&Process::new(pid as i32)?, pid)
}

/// What `stat` and `status` say; `open_fds` and `tcp` left `None`.
#[cfg(target_os = "linux")]
fn stat_and_status(process: &Process, pid: u32) -> procfs::ProcResult<ProcessSnapshot> {
    let stat = process.stat()?;
    let status = process.status()?;
    let ticks_per_second = procfs::ticks_per_second() as f64;
    let page_bytes = procfs::page_size();
    let cpu_user_seconds = stat.utime as f64 / ticks_per_second;
    let cpu_system_seconds = stat.stime as f64 / ticks_per_second;
    Ok(ProcessSnapshot {
        pid,
        rss_bytes: stat.rss * page_bytes,
        rss_anon_bytes: Some(status.rssanon.unwrap_or(0) * 1024),
        cpu_seconds: cpu_user_seconds + cpu_system_seconds,
        cpu_user_seconds: Some(cpu_user_seconds),
        cpu_system_seconds: Some(cpu_system_seconds),
        minor_faults: Some(stat.minflt),
        major_faults: Some(stat.majflt),
        threads: Some(stat.num_threads.max(0) as u64),
        open_fds: None,
        tcp: None,
    })
}

#[cfg(target_os = "linux")]
fn tcp_states(process: &Process) -> procfs::ProcResult<TcpStates> {
    let (entries, socket_inodes) = tcp_entries(process)?;
    Ok(count_states(&entries, &socket_inodes))
}

#[cfg(target_os = "linux")]
/// The TCP sockets of the process's network namespace, and the socket inodes the process
/// holds through its file descriptors.
fn tcp_entries(process: &Process) -> procfs::ProcResult<(Vec<TcpNetEntry>, HashSet<u64>)> {
    let socket_inodes: HashSet<u64> = process
        .fd()?
        .filter_map(|fd| match fd.ok()?.target {
            FDTarget::Socket(inode) => Some(inode),
            _ => None,
        })
        .collect();
    let mut entries: Vec<TcpNetEntry> = process.tcp().unwrap_or_default();
    entries.extend(process.tcp6().unwrap_or_default());
    Ok((entries, socket_inodes))
}

/// The TCP ports process `pid` listens on, through sockets it holds itself. Fails when
/// the process does not exist or its file descriptors cannot be read (another user's
/// process without the right to inspect it).
#[cfg(target_os = "linux")]
pub fn listening_ports(pid: u32) -> std::io::Result<Vec<u16>> {
    listening_ports_proc(pid).map_err(std::io::Error::other)
}

/// Where there is no `/proc`: the ports cannot be read.
#[cfg(not(target_os = "linux"))]
pub fn listening_ports(_pid: u32) -> std::io::Result<Vec<u16>> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "listening ports are read from /proc, which this OS does not have",
    ))
}

#[cfg(target_os = "linux")]
fn listening_ports_proc(pid: u32) -> procfs::ProcResult<Vec<u16>> {
    let (entries, socket_inodes) = tcp_entries(&Process::new(pid as i32)?)?;
    let mut ports: Vec<u16> = entries
        .iter()
        .filter(|e| e.state == TcpState::Listen && socket_inodes.contains(&e.inode))
        .map(|e| e.local_address.port())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

#[cfg(target_os = "linux")]
/// Counts sockets by state: owned ones by inode, TIME_WAIT by listening port (see the
/// module doc for why).
fn count_states(entries: &[TcpNetEntry], socket_inodes: &HashSet<u64>) -> TcpStates {
    let mut states = TcpStates::default();
    let mut listening_ports = HashSet::new();
    for entry in entries.iter().filter(|e| socket_inodes.contains(&e.inode)) {
        match entry.state {
            TcpState::Established => states.established += 1,
            TcpState::CloseWait => states.close_wait += 1,
            TcpState::Listen => {
                states.listen += 1;
                listening_ports.insert(entry.local_address.port());
            }
            _ => states.other += 1,
        }
    }
    for entry in entries.iter().filter(|e| e.state == TcpState::TimeWait) {
        states.time_wait_namespace += 1;
        if listening_ports.contains(&entry.local_address.port())
            || listening_ports.contains(&entry.remote_address.port())
        {
            states.time_wait += 1;
        }
    }
    states
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let snapshot = read_process_with(ProbeKind::Linux, std::process::id()).unwrap();
        assert!(snapshot.rss_bytes > 0);
        assert!(snapshot.threads >= Some(1));
        assert!(snapshot.open_fds >= Some(3));
    }

    #[test]
    fn counts_an_owned_listener_and_its_established_pair() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let snapshot = read_process_with(ProbeKind::Linux, std::process::id()).unwrap();
        let tcp = snapshot.tcp.unwrap();
        assert!(tcp.listen >= 1);
        assert!(tcp.established >= 2, "{tcp:?}");
        drop((client, server_side));
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(read_process_with(ProbeKind::Linux, u32::MAX / 2).is_err());
        assert!(read_process_with(ProbeKind::Portable, u32::MAX / 2).is_err());
    }
}
