//! The one stop signal that the HTTP server and the job worker share: a [`Shutdown`] that any
//! number of tasks wait on, fired by SIGTERM or Ctrl-C ([`Shutdown::on_signal`]) or by its
//! [`Trigger`] (tests, and `serve` stopping its worker when the server ends).

use tokio::sync::watch;

/// Fires a [`Shutdown`]. Dropping it fires it too, so a stopped owner never leaves waiters
/// hanging.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A cheap-to-clone handle that resolves once shutdown is asked for.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A new, unfired shutdown and its trigger.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Fired by the first SIGTERM or Ctrl-C the process receives.
    pub fn on_signal() -> Shutdown {
        let (trigger, shutdown) = channel();
        // The SIGTERM handler is installed now, before anything is served, so that a signal
        // arriving early is not met by the default action (dying mid-request).
        #[cfg(unix)]
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::spawn(async move {
            let ctrl_c = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            #[cfg(unix)]
            let term = async move {
                match term {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<()>();
            tokio::select! {
                () = ctrl_c => {},
                () = term => {},
            }
            tracing::info!("shutdown signal received; finishing in-flight work");
            trigger.fire();
        });
        shutdown
    }

    /// Whether shutdown was asked for.
    pub fn is_fired(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Resolves once shutdown is asked for (or its trigger is gone).
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        // An error means the trigger was dropped, which counts as fired.
        let _ = rx.wait_for(|fired| *fired).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_by_trigger_or_by_its_drop() {
        let (trigger, shutdown) = channel();
        let other = shutdown.clone();
        assert!(!shutdown.is_fired());
        trigger.fire();
        shutdown.wait().await;
        assert!(other.is_fired(), "every clone sees it");

        let (trigger, shutdown) = channel();
        drop(trigger);
        assert!(shutdown.is_fired());
        shutdown.wait().await;
    }
}
