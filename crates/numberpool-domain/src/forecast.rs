//! The pool-exhaustion forecast (issue 15): from a segment's free numbers and the numbers that
//! left it over a window, its pace per day and the days until none is left; and whether a
//! threshold (a floor of free numbers, a horizon in days) says to alert.

/// What the forecast says of one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub free: i64,
    /// Numbers that left the segment in the window.
    pub taken: i64,
    /// The window's pace: numbers a day.
    pub per_day: f64,
    /// Days until none is left at that pace; `None` when nothing left in the window.
    pub days_left: Option<f64>,
}

/// The forecast of a segment with `free` numbers left, `taken` of which left over the last
/// `window_days` days.
pub fn forecast(free: i64, taken: i64, window_days: i64) -> Forecast {
    let per_day = if window_days > 0 {
        taken.max(0) as f64 / window_days as f64
    } else {
        0.0
    };
    let days_left = (per_day > 0.0).then(|| free.max(0) as f64 / per_day);
    Forecast {
        free,
        taken,
        per_day,
        days_left,
    }
}

/// Why a threshold alerts, in words; `None` when it does not: fewer free than `min_free`, or
/// out within `horizon_days`.
pub fn alert_reason(f: &Forecast, min_free: Option<i64>, horizon_days: i64) -> Option<String> {
    if let Some(min) = min_free
        && f.free < min
    {
        return Some(format!("{} free, fewer than {min}", f.free));
    }
    if f.free <= 0 {
        return Some("none free".into());
    }
    match f.days_left {
        Some(d) if d <= horizon_days as f64 => Some(format!(
            "{} free at {:.1} a day: out in {:.0} days (within {horizon_days})",
            f.free,
            f.per_day,
            d.floor()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_and_the_days_left() {
        let f = forecast(700, 300, 30);
        assert_eq!(f.per_day, 10.0);
        assert_eq!(f.days_left, Some(70.0));
        assert_eq!(alert_reason(&f, None, 30), None);
        assert!(alert_reason(&f, None, 70).is_some_and(|r| r.contains("out in 70 days")));
        assert!(alert_reason(&f, Some(701), 30).is_some_and(|r| r.contains("fewer than 701")));
        let idle = forecast(5, 0, 30);
        assert_eq!(idle.days_left, None, "nothing taken: never runs out");
        assert_eq!(alert_reason(&idle, None, 3650), None);
        assert_eq!(forecast(0, 30, 30).days_left, Some(0.0));
        assert_eq!(
            alert_reason(&forecast(0, 0, 30), None, 30).as_deref(),
            Some("none free"),
            "an empty segment alerts even when nothing could be taken"
        );
    }
}
