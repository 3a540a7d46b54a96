//! How the CLI shows a long job's progress: a bar (indicatif) on standard error when it is a
//! terminal, and otherwise a plain line at each phase and every tenth of the rows, so a log
//! of a scripted run says how far it got. Standard output stays the command's answer.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::service::progress::{JobProgress, Phase};

/// Shows the progress of one job as its snapshots come in.
pub struct Shown {
    bar: Option<ProgressBar>,
    last: Option<(Phase, u64)>,
    what: &'static str,
}

impl Shown {
    /// A display for rows of `what` ("import", "export").
    pub fn new(what: &'static str) -> Shown {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style =
                ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} rows ({eta})")
                    .map(|s| s.progress_chars("=> "))
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Shown {
            bar,
            last: None,
            what,
        }
    }

    /// Shows `p`.
    pub fn show(&mut self, p: &JobProgress) {
        let (phase, done) = match p.phase {
            Phase::Writing => (Phase::Writing, p.written),
            other => (other, p.planned),
        };
        let label = match phase {
            Phase::Queued => "queued",
            Phase::Planning => "planning",
            Phase::Writing => "writing",
            Phase::Finished => "finished",
        };
        if let Some(bar) = &self.bar {
            // An export does not count its rows first: the bar then just counts.
            bar.set_length(if p.total > 0 { p.total } else { done });
            bar.set_position(done);
            bar.set_message(label);
            return;
        }
        // A line every tenth of the rows, or every 100,000 when the total is not known.
        let tenth = if p.total > 0 {
            (p.total / 10).max(1)
        } else {
            100_000
        };
        let step = done / tenth;
        let changed = match self.last {
            None => true,
            Some((ph, s)) => ph != phase || s != step,
        };
        if changed {
            self.last = Some((phase, step));
            eprintln!("{} {label}: {done} of {} rows", self.what, p.total);
        }
    }

    /// Clears the bar.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
