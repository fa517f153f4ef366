//! Charts drawn on the server as small inline SVG, so the dashboard needs no script and no
//! vendored library and stays within the page CSP (bars are SVG rectangles; text stays HTML,
//! readable at any width). Each chart comes with its numbers in a table behind a toggle, for
//! screen readers and for exact values.
//!
//! Must not know: where the numbers come from.

use super::esc;

/// One bar: its label and value.
pub struct Bar {
    /// What it counts (already in the page's language).
    pub label: String,
    /// How many.
    pub value: i64,
}

impl From<(String, i64)> for Bar {
    fn from((label, value): (String, i64)) -> Self {
        Self { label, value }
    }
}

/// Horizontal bars, one row per item: the label, a bar proportional to the largest value, and
/// the value. `tone` picks the bar colour class (`main`, `warn`).
pub fn hbars(bars: &[Bar], tone: &str, empty: &str) -> String {
    if bars.is_empty() {
        return format!("<p class=\"hint\">{}</p>", esc(empty));
    }
    let max = bars.iter().map(|b| b.value).max().unwrap_or(1).max(1);
    let mut out = String::from("<ul class=\"hbars\">");
    for b in bars {
        // At least a sliver, so a small non-zero value is visible.
        let width = ((b.value.max(0) as f64 / max as f64) * 100.0).max(0.8);
        out.push_str(&format!(
            "<li><span class=\"hb-label\">{label}</span><span class=\"hb-row\"><svg class=\"hb {tone}\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"{width:.2}\" height=\"10\" rx=\"1\"></rect></svg><span class=\"hb-value\">{value}</span></span></li>",
            label = esc(&b.label),
            tone = esc(tone),
            value = b.value,
        ));
    }
    out.push_str("</ul>");
    out
}

/// Columns over consecutive periods (e.g. the last 30 days), with the first, middle and last
/// labels under them and the largest value beside them. `title` names the chart for screen
/// readers.
pub fn columns(bars: &[Bar], title: &str, max_label: &str) -> String {
    let n = bars.len().max(1);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let slot = 100.0 / n as f64;
    let mut rects = String::new();
    for (i, b) in bars.iter().enumerate() {
        let h = (b.value.max(0) as f64 / max as f64) * 40.0;
        rects.push_str(&format!(
            "<rect x=\"{x:.3}\" y=\"{y:.3}\" width=\"{w:.3}\" height=\"{h:.3}\"><title>{label}: {value}</title></rect>",
            x = i as f64 * slot + slot * 0.12,
            y = 40.0 - h,
            w = slot * 0.76,
            label = esc(&b.label),
            value = b.value,
        ));
    }
    let label = |i: usize| bars.get(i).map(|b| esc(&b.label)).unwrap_or_default();
    format!(
        "<figure class=\"columns\"><svg viewBox=\"0 0 100 40\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{title}\"><line x1=\"0\" y1=\"40\" x2=\"100\" y2=\"40\"></line>{rects}</svg><figcaption><span>{first}</span><span>{middle}</span><span>{last}</span></figcaption><p class=\"meta\">{max_label} {max}</p></figure>",
        title = esc(title),
        max_label = esc(max_label),
        first = label(0),
        middle = label(bars.len() / 2),
        last = label(bars.len().saturating_sub(1)),
    )
}

/// The numbers of a chart as a table behind a toggle.
pub fn table(bars: &[Bar], summary: &str, head: (&str, &str)) -> String {
    let mut out = format!(
        "<details class=\"data\"><summary>{}</summary><table class=\"list\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(summary),
        esc(head.0),
        esc(head.1)
    );
    for b in bars {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&b.label),
            b.value
        ));
    }
    out.push_str("</tbody></table></details>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_labels_are_escaped() {
        let html = hbars(
            &[
                Bar {
                    label: "Dinas <Kesehatan>".into(),
                    value: 10,
                },
                Bar {
                    label: "Setda".into(),
                    value: 5,
                },
            ],
            "main",
            "kosong",
        );
        assert!(html.contains("width=\"100.00\"") && html.contains("width=\"50.00\""));
        assert!(html.contains("Dinas &lt;Kesehatan&gt;") && !html.contains("<Kesehatan>"));
        assert!(hbars(&[], "main", "kosong").contains("kosong"));
        let cols = columns(
            &[
                Bar {
                    label: "1 Des".into(),
                    value: 0,
                },
                Bar {
                    label: "2 Des".into(),
                    value: 4,
                },
            ],
            "Tanda tangan per hari",
            "maks.",
        );
        assert!(cols.contains("height=\"40.000\"") && cols.contains("maks. 4"));
    }
}
