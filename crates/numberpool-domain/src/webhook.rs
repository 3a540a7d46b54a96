//! Webhooks' pure part (issue 15): a subscription's and a delivery's states, the transitions
//! between them, and the retry schedule of a delivery. The store persists them; the delivery
//! job in the application drives them.

string_enum!(
    /// Whether a subscription is sent events. `Disabled` by its account, or by the delivery job
    /// when a delivery kept failing for longer than the retry window.
    WebhookState, "state", "active, disabled", exact, {
    Active => "active", Disabled => "disabled" });

string_enum!(
    /// Where one delivery is: `Pending` until it is answered with a 2xx (`Delivered`) or its
    /// retry window runs out (`Failed`, and its subscription is disabled).
    DeliveryState, "state", "pending, delivered, failed", exact, {
    Pending => "pending", Delivered => "delivered", Failed => "failed" });

/// What one attempt at a delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered 2xx.
    Accepted,
    /// Any other answer, or none; `window_over` when the delivery's subscription has been
    /// failing for longer than the retry window.
    Refused { window_over: bool },
}

/// A delivery's next state after an attempt: it ends delivered, or failed when its
/// subscription kept failing past the retry window; until then it stays pending and is retried.
pub fn delivery_after(state: DeliveryState, result: AttemptResult) -> Option<DeliveryState> {
    match (state, result) {
        (DeliveryState::Pending, AttemptResult::Accepted) => Some(DeliveryState::Delivered),
        (DeliveryState::Pending, AttemptResult::Refused { window_over: true }) => {
            Some(DeliveryState::Failed)
        }
        (DeliveryState::Pending, AttemptResult::Refused { window_over: false }) => {
            Some(DeliveryState::Pending)
        }
        (DeliveryState::Delivered | DeliveryState::Failed, _) => None,
    }
}

/// How long a delivery waits after its `attempts`-th failed attempt: `base_ms` doubled per
/// attempt, capped at an hour, with up to a fifth added at random (`jitter` in 0..=1), so that
/// the deliveries of many subscriptions to one receiver that came back do not all arrive at once.
pub fn delivery_retry_delay_ms(base_ms: i64, attempts: i32, jitter: f64) -> i64 {
    const CAP_MS: i64 = 3_600_000;
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let plain = base_ms
        .max(1)
        .saturating_mul(1_i64 << doublings)
        .min(CAP_MS);
    let extra = (plain as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    plain.saturating_add(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_ends_once() {
        let ok = AttemptResult::Accepted;
        let again = AttemptResult::Refused { window_over: false };
        let over = AttemptResult::Refused { window_over: true };
        assert_eq!(
            delivery_after(DeliveryState::Pending, ok),
            Some(DeliveryState::Delivered)
        );
        assert_eq!(
            delivery_after(DeliveryState::Pending, again),
            Some(DeliveryState::Pending)
        );
        assert_eq!(
            delivery_after(DeliveryState::Pending, over),
            Some(DeliveryState::Failed)
        );
        for done in [DeliveryState::Delivered, DeliveryState::Failed] {
            for r in [ok, again, over] {
                assert_eq!(delivery_after(done, r), None, "{done} is final");
            }
        }
    }

    #[test]
    fn the_retry_delay_doubles_with_a_fifth_of_jitter_at_most() {
        assert_eq!(delivery_retry_delay_ms(1000, 1, 0.0), 1000);
        assert_eq!(delivery_retry_delay_ms(1000, 2, 0.0), 2000);
        assert_eq!(delivery_retry_delay_ms(1000, 4, 0.0), 8000);
        assert_eq!(delivery_retry_delay_ms(1000, 4, 1.0), 9600);
        assert_eq!(delivery_retry_delay_ms(1000, 60, 0.0), 3_600_000);
        assert_eq!(delivery_retry_delay_ms(1000, 0, 0.0), 1000);
        for s in WebhookState::ALL {
            assert_eq!(s.as_str().parse::<WebhookState>(), Ok(s));
        }
        for s in DeliveryState::ALL {
            assert_eq!(s.as_str().parse::<DeliveryState>(), Ok(s));
        }
    }
}
