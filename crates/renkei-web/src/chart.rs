//! Server-rendered SVG trend charts (no JavaScript): one test's values over time, with the
//! reference range shaded and abnormal points marked.

use renkei_app::view::LabSeries;
use std::fmt::Write;

const W: f64 = 480.0;
const H: f64 = 180.0;
const PAD_L: f64 = 44.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 12.0;
const PAD_B: f64 = 28.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// The chart, or `None` when the test has fewer than two numeric results.
pub(crate) fn trend(s: &LabSeries) -> Option<String> {
    let pts: Vec<(f64, f64, bool)> = s
        .points
        .iter()
        .filter_map(|p| {
            let x = p.date.to_julian_day() as f64;
            p.value.map(|v| (x, v, p.flag.is_some()))
        })
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let (mut lo, mut hi) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.1), h.max(p.1)));
    for r in [s.low, s.high].into_iter().flatten() {
        lo = lo.min(r);
        hi = hi.max(r);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let margin = (hi - lo) * 0.1;
    let (lo, hi) = (lo - margin, hi + margin);
    let x0 = pts.first().map(|p| p.0).unwrap_or(0.0);
    let x1 = pts.last().map(|p| p.0).unwrap_or(1.0).max(x0 + 1.0);
    let sx = |x: f64| PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R);
    let sy = |y: f64| PAD_T + (hi - y) / (hi - lo) * (H - PAD_T - PAD_B);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{}の推移">"#,
        esc(&s.name)
    );
    if let (Some(l), Some(h)) = (s.low, s.high) {
        let _ = write!(
            svg,
            r##"<rect x="{PAD_L}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#e8f5e9"/>"##,
            sy(h),
            W - PAD_L - PAD_R,
            (sy(l) - sy(h)).max(0.0)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{PAD_L}" y1="{}" x2="{}" y2="{}" stroke="#9aa6b2"/>"##,
        H - PAD_B,
        W - PAD_R,
        H - PAD_B
    );
    for v in [lo + margin, hi - margin] {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#5b6876">{}</text>"##,
            PAD_L - 4.0,
            sy(v) + 4.0,
            fmt_num(v)
        );
    }
    let line: Vec<String> = pts
        .iter()
        .map(|p| format!("{:.1},{:.1}", sx(p.0), sy(p.1)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#0b5cad" stroke-width="2"/>"##,
        line.join(" ")
    );
    for p in &pts {
        let color = if p.2 { "#b3261e" } else { "#0b5cad" };
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"/>"#,
            sx(p.0),
            sy(p.1)
        );
    }
    if let (Some(first), Some(last)) = (s.points.first(), s.points.last()) {
        let _ = write!(
            svg,
            r##"<text x="{PAD_L}" y="{}" font-size="11" fill="#5b6876">{}</text><text x="{}" y="{}" font-size="11" text-anchor="end" fill="#5b6876">{}</text>"##,
            H - 8.0,
            first.date,
            W - PAD_R,
            H - 8.0,
            last.date
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}
