//! What the kernel says about a process, read from `/proc/<pid>`: resident memory, CPU
//! time, threads, open file descriptors, page faults and TCP sockets by state.
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

use std::collections::HashSet;

use procfs::net::{TcpNetEntry, TcpState};
use procfs::process::{FDTarget, Process};
use serde::{Deserialize, Serialize};

/// A reading of one process. Bytes, seconds and counts as the names say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSnapshot {
    pub pid: u32,
    /// Resident set size (the working set).
    pub rss_bytes: u64,
    /// Anonymous resident memory: the heap and stacks, not mapped files (private bytes).
    pub rss_anon_bytes: u64,
    /// User CPU time since the process started; callers take deltas.
    pub cpu_user_seconds: f64,
    /// System CPU time since the process started; callers take deltas.
    pub cpu_system_seconds: f64,
    /// Minor page faults since start (a fresh page touched for the first time).
    pub minor_faults: u64,
    /// Major page faults since start (a page read from disk).
    pub major_faults: u64,
    pub threads: u64,
    pub open_fds: u64,
    pub tcp: TcpStates,
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

/// Reads `/proc/<pid>` now. Fails when the process is gone.
pub fn read_process(pid: u32) -> procfs::ProcResult<ProcessSnapshot> {
    let process = Process::new(pid as i32)?;
    let stat = process.stat()?;
    let status = process.status()?;
    let ticks_per_second = procfs::ticks_per_second() as f64;
    let page_bytes = procfs::page_size();
    let tcp = tcp_states(&process).unwrap_or_default();
    Ok(ProcessSnapshot {
        pid,
        rss_bytes: stat.rss * page_bytes,
        rss_anon_bytes: status.rssanon.unwrap_or(0) * 1024,
        cpu_user_seconds: stat.utime as f64 / ticks_per_second,
        cpu_system_seconds: stat.stime as f64 / ticks_per_second,
        minor_faults: stat.minflt,
        major_faults: stat.majflt,
        threads: stat.num_threads.max(0) as u64,
        open_fds: process.fd_count().unwrap_or(0) as u64,
        tcp,
    })
}

/// Resident set size of this process in bytes, cheaply (one small file), 0 if unreadable.
pub fn own_rss_bytes() -> u64 {
    Process::myself()
        .and_then(|process| process.stat())
        .map(|stat| stat.rss * procfs::page_size())
        .unwrap_or(0)
}

fn tcp_states(process: &Process) -> procfs::ProcResult<TcpStates> {
    let (entries, socket_inodes) = tcp_entries(process)?;
    Ok(count_states(&entries, &socket_inodes))
}

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
pub fn listening_ports(pid: u32) -> procfs::ProcResult<Vec<u16>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let snapshot = read_process(std::process::id()).unwrap();
        assert!(snapshot.rss_bytes > 0);
        assert!(snapshot.threads >= 1);
        assert!(snapshot.open_fds >= 3);
    }

    #[test]
    fn counts_an_owned_listener_and_its_established_pair() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let snapshot = read_process(std::process::id()).unwrap();
        assert!(snapshot.tcp.listen >= 1);
        assert!(snapshot.tcp.established >= 2, "{:?}", snapshot.tcp);
        drop((client, server_side));
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(read_process(u32::MAX / 2).is_err());
    }
}
