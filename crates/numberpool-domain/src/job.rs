//! A background job's states and its retry schedule: the pure part of the jobs queue, which the
//! store persists and the runner in the application drives (ENGINEERING §2.11).

string_enum!(
    /// Where a job is in its life. `Queued` waits for `run_after`; `Running` belongs to one
    /// worker until its lease ends (after which another may take it over); `Done` and `Failed`
    /// are final. The word is the stored spelling (the `state` column), parsed only as written.
    JobState, "state", "queued, running, done, failed", exact, {
    Queued => "queued", Running => "running", Done => "done", Failed => "failed" });

impl JobState {
    /// No worker will touch a job in a final state again.
    pub fn is_final(self) -> bool {
        match self {
            Self::Done | Self::Failed => true,
            Self::Queued | Self::Running => false,
        }
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
