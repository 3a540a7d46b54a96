//! How a background job shows in the API: inside the import (its apply) or the export it
//! runs, with its state and progress, so a client polls the record it cares about.

use numberpool_domain::{JobId, JobState};
use serde::Serialize;
use utoipa::ToSchema;

use super::audit::rfc3339;
use crate::service::JobView;
use crate::service::progress::JobProgress;

/// A background job: its state, attempts and progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobBody {
    pub id: JobId,
    /// `queued`, `running`, `done` or `failed` (see `error`).
    pub state: JobState,
    /// Attempts so far; a job whose worker stopped is taken up again, up to `max_attempts`.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last attempt's error.
    pub error: Option<String>,
    pub progress: JobProgress,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<JobView> for JobBody {
    fn from(j: JobView) -> Self {
        JobBody {
            id: j.id,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            error: j.error,
            progress: j.progress,
            created_at: rfc3339(j.created_at),
            updated_at: rfc3339(j.updated_at),
        }
    }
}
