//! `[jobs]` settings: concurrency, retries, liveness and shutdown of the job queue and of
//! in-process tasks.

use std::time::Duration;

use serde::Deserialize;
use starter_core::config::{ConfigError, Profile, invalid, secs_f64};

/// How jobs run, retry, die and are recovered.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSettings {
    /// Prefix of every Redis key of the queues (`{namespace}:{queue}:…`) and of job statuses
    /// (`{namespace}:status:{id}`). Apps sharing a Redis use different namespaces.
    pub namespace: String,
    /// How many jobs one worker runs at the same time (per queue).
    pub concurrency: usize,
    /// Runs of a job before it is dead: the first one plus `max_attempts - 1` retries.
    pub max_attempts: u32,
    /// Delay before the first retry; each next one doubles it (with jitter), up to
    /// `backoff_max`.
    #[serde(with = "secs_f64")]
    pub backoff_base: Duration,
    /// Longest delay between two attempts.
    #[serde(with = "secs_f64")]
    pub backoff_max: Duration,
    /// How often a worker tells Redis it is alive and renews the lease on its jobs.
    /// Whole seconds: the queue compares Unix timestamps in seconds.
    #[serde(with = "secs_f64")]
    pub heartbeat_interval: Duration,
    /// A worker silent for this long is dead: its running jobs go back to the queue (the
    /// next heartbeat of any other worker re-enqueues them). At least twice the heartbeat.
    #[serde(with = "secs_f64")]
    pub orphan_timeout: Duration,
    /// How often an idle worker looks for new jobs.
    #[serde(with = "secs_f64")]
    pub poll_interval: Duration,
    /// At shutdown, how long running jobs (and in-process tasks) may take to finish. Jobs
    /// still running then are stopped and go back to the queue.
    #[serde(with = "secs_f64")]
    pub shutdown_grace: Duration,
    /// How long a job's status stays readable after its last change.
    #[serde(with = "secs_f64")]
    pub status_ttl: Duration,
}

impl Default for JobsSettings {
    fn default() -> Self {
        Self {
            namespace: "jobs".into(),
            concurrency: 8,
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            heartbeat_interval: Duration::from_secs(5),
            orphan_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(20),
            status_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl JobsSettings {
    /// Refuses an empty namespace, zero concurrency/attempts/intervals, a heartbeat that is
    /// not whole seconds, an orphan timeout under two heartbeats and `backoff_max <
    /// backoff_base`.
    pub fn check(&self, _profile: Profile) -> Result<(), ConfigError> {
        if self.namespace.trim().is_empty() || self.namespace.contains(char::is_whitespace) {
            return Err(invalid(
                "jobs.namespace",
                "must be non-empty, without spaces",
            ));
        }
        if self.concurrency == 0 {
            return Err(invalid("jobs.concurrency", "must be at least 1"));
        }
        if self.max_attempts == 0 {
            return Err(invalid("jobs.max_attempts", "must be at least 1"));
        }
        for (key, value) in [
            ("jobs.backoff_base", self.backoff_base),
            ("jobs.poll_interval", self.poll_interval),
            ("jobs.status_ttl", self.status_ttl),
        ] {
            if value.is_zero() {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.backoff_max < self.backoff_base {
            return Err(invalid(
                "jobs.backoff_max",
                "must be at least jobs.backoff_base",
            ));
        }
        if self.heartbeat_interval < Duration::from_secs(1)
            || self.heartbeat_interval.subsec_nanos() != 0
        {
            return Err(invalid(
                "jobs.heartbeat_interval",
                "must be a whole number of seconds, at least 1",
            ));
        }
        if self.orphan_timeout < self.heartbeat_interval * 2 {
            return Err(invalid(
                "jobs.orphan_timeout",
                "must be at least twice jobs.heartbeat_interval",
            ));
        }
        Ok(())
    }

    /// Heartbeats a worker may miss before it counts as dead (`orphan_timeout` rounded up
    /// to whole heartbeats).
    pub(crate) fn missed_heartbeats(&self) -> usize {
        let beat = self.heartbeat_interval.as_secs().max(1);
        self.orphan_timeout.as_secs().div_ceil(beat) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_bad_values_are_refused() {
        assert!(JobsSettings::default().check(Profile::Prod).is_ok());
        let cases = [
            (
                JobsSettings {
                    concurrency: 0,
                    ..Default::default()
                },
                "jobs.concurrency",
            ),
            (
                JobsSettings {
                    heartbeat_interval: Duration::from_millis(1500),
                    ..Default::default()
                },
                "jobs.heartbeat_interval",
            ),
            (
                JobsSettings {
                    heartbeat_interval: Duration::from_secs(10),
                    orphan_timeout: Duration::from_secs(15),
                    ..Default::default()
                },
                "jobs.orphan_timeout",
            ),
            (
                JobsSettings {
                    backoff_max: Duration::from_millis(10),
                    ..Default::default()
                },
                "jobs.backoff_max",
            ),
            (
                JobsSettings {
                    namespace: " ".into(),
                    ..Default::default()
                },
                "jobs.namespace",
            ),
        ];
        for (settings, key) in cases {
            let err = settings.check(Profile::Dev).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn orphan_timeout_rounds_up_to_heartbeats() {
        let s = JobsSettings {
            heartbeat_interval: Duration::from_secs(2),
            orphan_timeout: Duration::from_secs(5),
            ..Default::default()
        };
        assert_eq!(s.missed_heartbeats(), 3);
    }
}
