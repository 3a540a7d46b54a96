//! A background job's states and its retry schedule: the pure part of the jobs queue, which the
//! store persists and the runner in the application drives (ENGINEERING §2.11).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::ParseEnumError;

/// Where a job is in its life. `Queued` waits for `run_after`; `Running` belongs to one worker
/// until its lease ends (after which another may take it over); `Done` and `Failed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    /// The stored spelling (the `state` column).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// No worker will touch a job in a final state again.
    pub fn is_final(self) -> bool {
        match self {
            Self::Done | Self::Failed => true,
            Self::Queued | Self::Running => false,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ParseEnumError::new("state", s, "queued, running, done, failed"))
    }
}

/// How long a job waits before its next attempt after `attempts` failed ones: exponential from
/// 5 s, doubling per attempt, capped at one hour, so a job failing on a dependency that is down
/// retries soon at first and then stops hammering it.
pub fn job_retry_delay_ms(attempts: i32) -> i64 {
    const FIRST_MS: i64 = 5_000;
    const CAP_MS: i64 = 3_600_000;
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    FIRST_MS.saturating_mul(1_i64 << doublings).min(CAP_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_spelling() {
        for st in JobState::ALL {
            assert_eq!(st.as_str().parse::<JobState>(), Ok(st));
        }
        assert!(
            "QUEUED".parse::<JobState>().is_err(),
            "the spelling is exact"
        );
        assert!("".parse::<JobState>().is_err());
        let finals: Vec<_> = JobState::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [JobState::Done, JobState::Failed]);
    }

    #[test]
    fn retry_delay_doubles_up_to_an_hour() {
        assert_eq!(job_retry_delay_ms(0), 5_000);
        assert_eq!(job_retry_delay_ms(1), 5_000);
        assert_eq!(job_retry_delay_ms(2), 10_000);
        assert_eq!(job_retry_delay_ms(3), 20_000);
        assert_eq!(job_retry_delay_ms(10), 2_560_000);
        assert_eq!(job_retry_delay_ms(11), 3_600_000);
        assert_eq!(job_retry_delay_ms(i32::MAX), 3_600_000);
        assert_eq!(job_retry_delay_ms(-4), 5_000);
    }
}
