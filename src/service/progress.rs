//! How far a running bulk job has come (issue 13): rows read and checked, rows written, of the
//! total, and the phase. A job body ticks a [`Progress`] per row, which costs an atomic add; the
//! service keeps the handles of the jobs running in this process on its [`ProgressBoard`], so
//! the API, portal and CLI of the same process see each row as it goes. The job also writes
//! its progress to its row at each phase change (outside its own write transaction, which on
//! SQLite is the only writer), so another process sees the phases.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use numberpool_domain::JobId;
use serde::{Deserialize, Serialize};

/// Where a bulk job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(rename_all = "snake_case")]
#[schema(as = JobPhase)]
pub enum Phase {
    /// Waiting for a worker.
    #[default]
    Queued,
    /// Reading the file and checking each row against the inventory.
    Planning,
    /// Writing the accepted rows (not yet visible: they commit together).
    Writing,
    /// Finished (the job's state says how).
    Finished,
}

impl Phase {
    fn code(self) -> u8 {
        match self {
            Phase::Queued => 0,
            Phase::Planning => 1,
            Phase::Writing => 2,
            Phase::Finished => 3,
        }
    }

    fn of(code: u8) -> Phase {
        match code {
            1 => Phase::Planning,
            2 => Phase::Writing,
            3 => Phase::Finished,
            _ => Phase::Queued,
        }
    }
}

/// How far a job has come: its phase, and rows checked and written of the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, Default)]
pub struct JobProgress {
    pub phase: Phase,
    /// Rows read and checked so far.
    pub planned: u64,
    /// Rows written so far.
    pub written: u64,
    /// Rows in all.
    pub total: u64,
}

#[derive(Debug, Default)]
struct Counters {
    phase: AtomicU8,
    planned: AtomicU64,
    written: AtomicU64,
    total: AtomicU64,
}

/// A running job's live counters; cloning shares them. [`Progress::none`] counts for nobody.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<Counters>);

impl Progress {
    /// Counters no one watches (a dry run's plan, a test).
    pub fn none() -> Progress {
        Progress::default()
    }

    pub fn set_phase(&self, phase: Phase) {
        self.0.phase.store(phase.code(), Ordering::Relaxed);
    }

    pub fn set_total(&self, total: u64) {
        self.0.total.store(total, Ordering::Relaxed);
    }

    pub fn planned(&self, rows: u64) {
        self.0.planned.fetch_add(rows, Ordering::Relaxed);
    }

    pub fn written(&self, rows: u64) {
        self.0.written.fetch_add(rows, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> JobProgress {
        JobProgress {
            phase: Phase::of(self.0.phase.load(Ordering::Relaxed)),
            planned: self.0.planned.load(Ordering::Relaxed),
            written: self.0.written.load(Ordering::Relaxed),
            total: self.0.total.load(Ordering::Relaxed),
        }
    }
}

/// The progress of the jobs running in this process, by job.
#[derive(Debug, Default)]
pub struct ProgressBoard(Mutex<HashMap<JobId, Progress>>);

/// A job's counters on the board; they leave it when this is dropped, however the job body
/// ends (returned, failed, or aborted at its timeout).
pub struct Watched<'a> {
    board: &'a ProgressBoard,
    job: JobId,
    progress: Progress,
}

impl std::ops::Deref for Watched<'_> {
    type Target = Progress;
    fn deref(&self) -> &Progress {
        &self.progress
    }
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        self.board.remove(self.job);
    }
}

impl ProgressBoard {
    /// Fresh counters for `job`, on the board while the returned guard lives.
    pub fn start(&self, job: JobId) -> Watched<'_> {
        let progress = Progress::default();
        if let Ok(mut m) = self.0.lock() {
            m.insert(job, progress.clone());
        }
        Watched {
            board: self,
            job,
            progress,
        }
    }

    fn remove(&self, job: JobId) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&job);
        }
    }

    /// The live progress of `job` if it runs in this process.
    pub fn get(&self, job: JobId) -> Option<JobProgress> {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(&job).map(Progress::snapshot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_by_clones_and_seen_on_the_board_until_removed() {
        let board = ProgressBoard::default();
        let id = JobId::new();
        let p = board.start(id);
        let q = (*p).clone();
        p.set_total(10);
        p.set_phase(Phase::Planning);
        q.planned(4);
        q.planned(6);
        p.set_phase(Phase::Writing);
        p.written(3);
        assert_eq!(
            board.get(id),
            Some(JobProgress {
                phase: Phase::Writing,
                planned: 10,
                written: 3,
                total: 10
            })
        );
        drop(p);
        assert_eq!(board.get(id), None, "gone with its guard");
        assert_eq!(board.get(JobId::new()), None);
    }

    #[test]
    fn phases_round_trip_through_their_codes() {
        for p in [
            Phase::Queued,
            Phase::Planning,
            Phase::Writing,
            Phase::Finished,
        ] {
            assert_eq!(Phase::of(p.code()), p);
        }
        assert_eq!(Phase::of(200), Phase::Queued);
    }
}
