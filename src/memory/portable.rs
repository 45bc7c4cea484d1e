//! The portable process probe, on `sysinfo`: resident memory and CPU seconds on every OS,
//! threads where sysinfo counts them (Linux). Anonymous RSS, faults, fds and TCP states
//! are `None`: sysinfo does not read them, and a figure not read is not 0.

use std::io;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::process::ProcessSnapshot;

/// Reads process `pid` now. Fails when the process is gone.
pub(super) fn read_process(pid: u32) -> io::Result<ProcessSnapshot> {
    // A fresh `System` per reading: sysinfo keeps what it read (tasks included) in its
    // own map, and one reading of one process is all this needs.
    let mut system = System::new();
    let target = Pid::from_u32(pid);
    let refresh = ProcessRefreshKind::nothing()
        .with_memory()
        .with_cpu()
        .with_tasks();
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&[target]), true, refresh);
    let process = system
        .process(target)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no process {pid}")))?;
    Ok(ProcessSnapshot {
        pid,
        rss_bytes: process.memory(),
        cpu_seconds: process.accumulated_cpu_time() as f64 / 1000.0,
        // Linux lists a process's tasks (its threads, the main one included).
        threads: process.tasks().map(|tasks| tasks.len() as u64),
        ..ProcessSnapshot::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_leaves_what_it_cannot_see_absent() {
        let snapshot = read_process(std::process::id()).unwrap();
        assert!(snapshot.rss_bytes > 0);
        assert_eq!(snapshot.open_fds, None);
        assert_eq!(snapshot.tcp, None);
        assert_eq!(snapshot.minor_faults, None);
        assert_eq!(snapshot.rss_anon_bytes, None);
        assert_eq!(snapshot.cpu_user_seconds, None);
    }
}

/// The two probes on the same live process: the portable reading, taken between two Linux
/// readings, must lie within them (a few percent either side: the process moves between
/// the reads, and the two probes round CPU time differently).
#[cfg(all(test, target_os = "linux"))]
mod agreement {
    use super::super::probe::ProbeKind;
    use super::super::process::read_process_with;

    #[test]
    fn the_portable_probe_agrees_with_the_linux_probe_on_rss_and_cpu() {
        // Something to measure: 64 MiB touched, and at least 0.3 s of CPU (counted in CPU
        // time, not wall time: the machine may be shared).
        let block = vec![1u8; 64 << 20];
        let pid = std::process::id();
        let cpu = || {
            read_process_with(ProbeKind::Linux, pid)
                .unwrap()
                .cpu_seconds
        };
        let (cpu_at_start, started) = (cpu(), std::time::Instant::now());
        let mut spin = 0u64;
        while cpu() - cpu_at_start < 0.3 && started.elapsed().as_secs() < 30 {
            for _ in 0..1_000_000 {
                spin = std::hint::black_box(spin.wrapping_mul(31).wrapping_add(7));
            }
        }
        let before = read_process_with(ProbeKind::Linux, pid).unwrap();
        let portable = read_process_with(ProbeKind::Portable, pid).unwrap();
        let after = read_process_with(ProbeKind::Linux, pid).unwrap();
        std::hint::black_box(&block);

        let within = |value: f64, low: f64, high: f64| {
            value >= low.min(high) * 0.97 && value <= low.max(high) * 1.03
        };
        assert!(
            within(
                portable.rss_bytes as f64,
                before.rss_bytes as f64,
                after.rss_bytes as f64
            ),
            "RSS: portable {} B, linux {} then {} B",
            portable.rss_bytes,
            before.rss_bytes,
            after.rss_bytes
        );
        // CPU ticks are 10 ms: allow one tick beside the few percent.
        assert!(
            portable.cpu_seconds >= before.cpu_seconds * 0.97 - 0.01
                && portable.cpu_seconds <= after.cpu_seconds * 1.03 + 0.01,
            "CPU: portable {} s, linux {} then {} s",
            portable.cpu_seconds,
            before.cpu_seconds,
            after.cpu_seconds
        );
        assert!(
            before.cpu_seconds >= 0.3,
            "the spin ran: {}",
            before.cpu_seconds
        );
        // What only /proc has: present from the Linux probe, absent from the portable one.
        assert!(before.open_fds.is_some() && before.tcp.is_some());
        assert!(portable.open_fds.is_none() && portable.tcp.is_none());
        assert_eq!(portable.threads.is_some(), cfg!(target_os = "linux"));
    }
}

/// Manual measurement, not a check (`cargo test --release --lib -- --ignored --nocapture
/// probe_cost`): what one reading of this process costs with each probe, in this thread's
/// CPU time.
#[cfg(all(test, target_os = "linux"))]
mod cost {
    use super::super::probe::ProbeKind;
    use super::super::process::read_process_with;

    fn thread_cpu_seconds() -> f64 {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the struct we own.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
    }

    #[test]
    #[ignore = "manual measurement"]
    fn probe_cost() {
        const READS: u32 = 400;
        for kind in [ProbeKind::Linux, ProbeKind::Portable, ProbeKind::Linux] {
            let started = thread_cpu_seconds();
            for _ in 0..READS {
                read_process_with(kind, std::process::id()).unwrap();
            }
            let per_read_us = (thread_cpu_seconds() - started) / f64::from(READS) * 1e6;
            println!(
                "{:>8} probe: {per_read_us:.0} µs CPU per reading",
                kind.name()
            );
        }
        let started = thread_cpu_seconds();
        for _ in 0..READS {
            super::super::process::read_process_cheap(std::process::id()).unwrap();
        }
        let per_read_us = (thread_cpu_seconds() - started) / f64::from(READS) * 1e6;
        println!("   cheap read (stat + status): {per_read_us:.0} µs CPU per reading");
    }
}
