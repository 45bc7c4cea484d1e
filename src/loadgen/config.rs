//! What to drive and how hard: the [`LoadConfig`] callers fill in, and its validation, done
//! once in [`super::start`] so workers never meet a bad value mid-run.

use std::net::SocketAddr;
use std::time::Duration;

use super::request::RequestTemplate;

/// When load stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopAt {
    /// After this long (from the start of load). Requests still in flight at that moment
    /// are abandoned, not counted.
    Duration(Duration),
    /// After exactly this many requests have completed or failed (responses + errors).
    Requests(u64),
}

/// What to drive and how hard.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header, e.g. `127.0.0.1:5000`.
    pub host: String,
    /// Paths (with query) to request, taken round-robin per connection; each starts with `/`.
    pub paths: Vec<String>,
    /// Concurrent keep-alive connections in total (at least 1).
    pub connections: usize,
    /// Worker threads (one current-thread runtime each; at least 1, and never more are
    /// started than there are connections).
    pub threads: usize,
    /// Open loop at this rate in requests per second; closed loop when `None`.
    pub rate_per_s: Option<f64>,
    pub stop: StopAt,
    /// Per-request timeout: connecting (when needed), sending and reading the whole
    /// response must fit in it.
    pub timeout: Duration,
}

/// A configuration the generator cannot run; the message names the field and the value.
#[derive(Debug, thiserror::Error)]
#[error("invalid load configuration: {0}")]
pub struct ConfigError(pub String);

impl LoadConfig {
    /// Checks every field a worker relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.connections == 0 {
            return Err(ConfigError(
                "connections is 0; expected at least 1".to_string(),
            ));
        }
        if self.threads == 0 {
            return Err(ConfigError("threads is 0; expected at least 1".to_string()));
        }
        if let Some(rate) = self.rate_per_s
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(ConfigError(format!(
                "rate \"{rate}\" requests per second; expected a number greater than zero"
            )));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError(
                "timeout is zero; expected a duration such as 10s".to_string(),
            ));
        }
        // Builds the requests once, so bad paths or hosts fail here with their text.
        RequestTemplate::new(&self.host, &self.paths)?;
        Ok(())
    }

    /// Threads actually started: a thread without a connection would only idle.
    pub(crate) fn effective_threads(&self) -> usize {
        self.threads.clamp(1, self.connections.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LoadConfig {
        LoadConfig {
            addr: "127.0.0.1:9".parse().unwrap(),
            host: "127.0.0.1:9".to_string(),
            paths: vec!["/api/ping".to_string()],
            connections: 4,
            threads: 2,
            rate_per_s: None,
            stop: StopAt::Requests(1),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_sound_config_passes() {
        config().validate().unwrap();
    }

    #[test]
    fn bad_fields_are_named_with_their_value() {
        let cases: Vec<(LoadConfig, &str)> = vec![
            (
                LoadConfig {
                    connections: 0,
                    ..config()
                },
                "connections is 0",
            ),
            (
                LoadConfig {
                    threads: 0,
                    ..config()
                },
                "threads is 0",
            ),
            (
                LoadConfig {
                    rate_per_s: Some(-5.0),
                    ..config()
                },
                "\"-5\"",
            ),
            (
                LoadConfig {
                    timeout: Duration::ZERO,
                    ..config()
                },
                "timeout is zero",
            ),
            (
                LoadConfig {
                    paths: vec!["api/ping".to_string()],
                    ..config()
                },
                "\"api/ping\"",
            ),
            (
                LoadConfig {
                    paths: Vec::new(),
                    ..config()
                },
                "no paths",
            ),
            (
                LoadConfig {
                    host: "bad\nhost".to_string(),
                    ..config()
                },
                "host",
            ),
        ];
        for (config, expected) in cases {
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
    }

    #[test]
    fn threads_never_exceed_connections() {
        let few = LoadConfig {
            connections: 3,
            threads: 8,
            ..config()
        };
        assert_eq!(few.effective_threads(), 3);
        assert_eq!(config().effective_threads(), 2);
    }
}
