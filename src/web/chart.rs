//! Bar charts drawn on the server as SVG (the dashboard's): no chart library and no
//! JavaScript. A chart is data here; `templates/partials/chart.html` draws it.

use std::collections::BTreeMap;

/// Width of the longest bar, in the SVG's own units.
const BAR_SPACE: u32 = 220;
/// Height of one row (bar and gap).
pub const ROW: u32 = 28;

/// One bar: its label, its count, and its geometry in the SVG.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub count: i64,
    /// Where the bar's label links (the numbers list filtered to it).
    pub href: String,
    pub width: u32,
    pub y: u32,
    pub text_y: u32,
}

/// A titled chart of counts.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub id: &'static str,
    pub title: &'static str,
    pub bars: Vec<Bar>,
    pub height: u32,
    /// A sentence saying the same as the bars, for screen readers.
    pub summary: String,
}

/// A person's word for an API word: `in_use` → `In use`, `contact_center` → `Contact center`.
pub fn label(word: &str) -> String {
    let spaced = word.replace('_', " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl BarChart {
    /// A chart of `counts`; each bar links to the numbers list with `filter=<key>`.
    pub fn new(
        id: &'static str,
        title: &'static str,
        filter: &str,
        counts: &BTreeMap<String, i64>,
    ) -> BarChart {
        let max = counts.values().copied().max().unwrap_or(0).max(1);
        let bars: Vec<Bar> = counts
            .iter()
            .enumerate()
            .map(|(i, (k, &v))| {
                let row = u32::try_from(i)
                    .unwrap_or(u32::MAX / ROW)
                    .saturating_mul(ROW);
                let scaled = i64::from(BAR_SPACE) * v.max(0) / max;
                Bar {
                    label: label(k),
                    count: v,
                    href: format!("/portal/numbers?{filter}={k}"),
                    // A non-zero count always shows a sliver.
                    width: u32::try_from(scaled)
                        .unwrap_or(BAR_SPACE)
                        .max(u32::from(v > 0) * 2),
                    y: row + 4,
                    text_y: row + 19,
                }
            })
            .collect();
        let summary = bars
            .iter()
            .map(|b| format!("{} {}", b.label, b.count))
            .collect::<Vec<_>>()
            .join(", ");
        BarChart {
            id,
            title,
            height: u32::try_from(bars.len())
                .unwrap_or(0)
                .saturating_mul(ROW)
                .max(ROW),
            bars,
            summary: format!("{title}: {summary}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_small_counts_stay_visible() {
        let counts: BTreeMap<String, i64> = [("free", 1000), ("in_use", 1), ("returned", 0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let c = BarChart::new("pos", "Position", "position", &counts);
        let w: Vec<u32> = c.bars.iter().map(|b| b.width).collect();
        assert_eq!(w, vec![BAR_SPACE, 2, 0]);
        assert_eq!(c.bars[1].label, "In use");
        assert_eq!(c.bars[1].href, "/portal/numbers?position=in_use");
        assert_eq!(c.summary, "Position: Free 1000, In use 1, Returned 0");
        assert_eq!(c.height, 3 * ROW);
    }
}
