//! Leaf: the process resources a chart can draw in its resource panel (sockets by TCP
//! state, open fds, threads) and the OS limits drawn against them (the ephemeral port
//! range, the inotify instance limit).
//!
//! A scenario names the resources that carry its lesson (`[chart] resources = [...]`, and
//! any resource its `[expect]` checks); the runner reads the limits from `/proc` when the
//! run starts and both are saved in `summary.json`, so a chart drawn later from saved data
//! (compare, gallery) shows the same panel and the same limit line.

use serde::{Deserialize, Serialize};

/// A process resource with a `samples.csv` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// `tcp_time_wait`: the server's TCP connections in TIME_WAIT.
    TcpTimeWait,
    /// `tcp_established`: the server's TCP connections in ESTABLISHED.
    TcpEstablished,
    /// `tcp_close_wait`: the server's TCP connections in CLOSE_WAIT.
    TcpCloseWait,
    /// `open_fds`: the server's open file descriptors.
    OpenFds,
    /// `threads`: the server's threads.
    Threads,
    /// `goroutines`: a Go server's goroutines (measured by the runtime, in the
    /// diagnostics contract); drawn whenever the samples have them.
    Goroutines,
}

impl Resource {
    /// Every resource, in the order the panel draws them.
    pub const ALL: [Resource; 6] = [
        Resource::TcpTimeWait,
        Resource::TcpEstablished,
        Resource::TcpCloseWait,
        Resource::OpenFds,
        Resource::Threads,
        Resource::Goroutines,
    ];

    /// The column name, as written in scenario files: `tcp_time_wait`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::TcpTimeWait => "tcp_time_wait",
            Resource::TcpEstablished => "tcp_established",
            Resource::TcpCloseWait => "tcp_close_wait",
            Resource::OpenFds => "open_fds",
            Resource::Threads => "threads",
            Resource::Goroutines => "goroutines",
        }
    }

    /// The resource named `name`; the error lists the names there are.
    pub fn parse(name: &str) -> Result<Resource, String> {
        Resource::ALL
            .into_iter()
            .find(|resource| resource.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Resource::ALL.iter().map(|r| r.name()).collect();
                format!(
                    "unknown resource \"{name}\": expected one of {}",
                    names.join(", ")
                )
            })
    }

    /// How a legend names it: `TIME_WAIT sockets`.
    pub fn label(self) -> &'static str {
        match self {
            Resource::TcpTimeWait => "TIME_WAIT sockets",
            Resource::TcpEstablished => "ESTABLISHED sockets",
            Resource::TcpCloseWait => "CLOSE_WAIT sockets",
            Resource::OpenFds => "open fds",
            Resource::Threads => "threads",
            Resource::Goroutines => "goroutines",
        }
    }
}

/// An OS limit a scenario's resources run into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsLimit {
    /// `ephemeral_ports`: the local port range (`/proc/sys/net/ipv4/ip_local_port_range`),
    /// the ports outgoing connections, and so TIME_WAIT sockets, draw from.
    EphemeralPorts,
    /// `inotify_instances`: `/proc/sys/fs/inotify/max_user_instances`, the inotify
    /// instances one user may hold (each one an open fd of the server).
    InotifyInstances,
}

impl OsLimit {
    /// Every limit.
    pub const ALL: [OsLimit; 2] = [OsLimit::EphemeralPorts, OsLimit::InotifyInstances];

    /// The name, as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            OsLimit::EphemeralPorts => "ephemeral_ports",
            OsLimit::InotifyInstances => "inotify_instances",
        }
    }

    /// The limit named `name`; the error lists the names there are.
    pub fn parse(name: &str) -> Result<OsLimit, String> {
        OsLimit::ALL
            .into_iter()
            .find(|limit| limit.name() == name)
            .ok_or_else(|| {
                format!("unknown limit \"{name}\": expected ephemeral_ports or inotify_instances")
            })
    }

    /// Reads the limit of this machine from `/proc`; `None` where the file is missing or
    /// unreadable (not Linux, a sandbox), and then no line is drawn.
    pub fn read(self) -> Option<ResourceLimit> {
        match self {
            OsLimit::EphemeralPorts => {
                let path = "/proc/sys/net/ipv4/ip_local_port_range";
                let (low, high) = parse_port_range(&std::fs::read_to_string(path).ok()?)?;
                Some(ResourceLimit {
                    limit: self,
                    value: high - low + 1,
                    label: format!("ephemeral ports {low}–{high} (ip_local_port_range)"),
                })
            }
            OsLimit::InotifyInstances => {
                let path = "/proc/sys/fs/inotify/max_user_instances";
                let value = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
                Some(ResourceLimit {
                    limit: self,
                    value,
                    label: "inotify instances per user (max_user_instances)".to_string(),
                })
            }
        }
    }
}

/// `32768\t60999` → (32768, 60999).
fn parse_port_range(text: &str) -> Option<(u64, u64)> {
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    let (low, high) = (fields.next()??, fields.next()??);
    (high >= low).then_some((low, high))
}

/// An OS limit as read on the machine of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceLimit {
    pub limit: OsLimit,
    /// The limit, in the panel's unit (ports, instances).
    pub value: u64,
    /// What it is, e.g. `ephemeral ports 32768–60999 (ip_local_port_range)`.
    pub label: String,
}

/// What a run's resource panel draws; empty: no panel (the chart keeps two panels).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartResources {
    /// The resources drawn, in [`Resource::ALL`] order.
    #[serde(default)]
    pub series: Vec<Resource>,
    /// The OS limits drawn as dashed lines, as read when the run started.
    #[serde(default)]
    pub limits: Vec<ResourceLimit>,
}

impl ChartResources {
    /// Whether there is no panel to draw.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The panel of `series` (deduplicated, in [`Resource::ALL`] order) with `limits` read
    /// from this machine.
    pub fn read(series: impl IntoIterator<Item = Resource>, limits: &[OsLimit]) -> Self {
        let mut series: Vec<Resource> = series.into_iter().collect();
        series.sort();
        series.dedup();
        ChartResources {
            limits: if series.is_empty() {
                Vec::new()
            } else {
                limits.iter().filter_map(|limit| limit.read()).collect()
            },
            series,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_quoted() {
        for resource in Resource::ALL {
            assert_eq!(Resource::parse(resource.name()), Ok(resource));
        }
        let err = Resource::parse("sockets").unwrap_err();
        assert!(
            err.contains("\"sockets\"") && err.contains("tcp_time_wait"),
            "{err}"
        );
        assert!(OsLimit::parse("ports").unwrap_err().contains("\"ports\""));
    }

    #[test]
    fn the_port_range_is_read_from_its_two_fields() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("x"), None);
    }

    #[test]
    fn series_are_deduplicated_in_panel_order() {
        let panel = ChartResources::read(
            [Resource::Threads, Resource::TcpTimeWait, Resource::Threads],
            &[],
        );
        assert_eq!(panel.series, vec![Resource::TcpTimeWait, Resource::Threads]);
        assert!(
            ChartResources::read([], &[OsLimit::EphemeralPorts])
                .limits
                .is_empty()
        );
    }
}
