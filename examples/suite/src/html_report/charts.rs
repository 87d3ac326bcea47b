//! The report's charts, drawn with `plotters` into SVG strings (its SVG backend only): grouped
//! bars of conventional vs NDP per workload, and utilization over simulated time with the
//! runs' windows shaded.

use plotters::coord::Shift;
use plotters::prelude::*;

use app_support::SuiteError;

use super::utilization::{Series, Timeline};

/// Width and height of every chart, in pixels.
const SIZE: (u32, u32) = (600, 320);
/// Conventional runs' colour.
const CONV: RGBColor = RGBColor(0x44, 0x77, 0xAA);
/// NDP runs' colour.
const NDP: RGBColor = RGBColor(0xEE, 0x66, 0x77);
/// Line colours of utilization series, in order.
const LINES: [RGBColor; 8] = [
    RGBColor(0x22, 0x88, 0x33),
    RGBColor(0x44, 0x77, 0xAA),
    RGBColor(0xEE, 0x66, 0x77),
    RGBColor(0xAA, 0x33, 0x77),
    RGBColor(0xCC, 0xBB, 0x44),
    RGBColor(0x66, 0xCC, 0xEE),
    RGBColor(0x33, 0x22, 0x88),
    RGBColor(0x99, 0x99, 0x33),
];

/// One workload's pair of bars.
pub struct Pair {
    /// The workload (`grep`, ...).
    pub label: String,
    /// Conventional figure, if that run was made.
    pub conv: Option<f64>,
    /// NDP figure, if that run was made.
    pub ndp: Option<f64>,
}

/// A run's window on the timeline, shaded in utilization charts.
pub struct Window {
    /// Short label (`grep NDP`).
    pub label: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

fn fail(chart: &str, e: impl std::fmt::Display) -> SuiteError {
    SuiteError::Chart {
        chart: chart.to_owned(),
        reason: e.to_string(),
    }
}

/// Draws into a new SVG string of [`SIZE`] with `draw`.
fn svg(
    title: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), SuiteError>,
) -> Result<String, SuiteError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(title, e))?;
        draw(&root)?;
        root.present().map_err(|e| fail(title, e))?;
    }
    Ok(out)
}

/// Grouped bars: per workload, conventional beside NDP; `unit` labels the y axis.
pub fn bars(title: &str, unit: &str, pairs: &[Pair]) -> Result<String, SuiteError> {
    let n = pairs.len().max(1);
    let top = pairs
        .iter()
        .flat_map(|p| [p.conv, p.ndp])
        .flatten()
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };
    let labels: Vec<String> = pairs.iter().map(|p| p.label.clone()).collect();
    let name = move |x: &SegmentValue<i32>| match x {
        SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    svg(title, |root| {
        // One segment per workload: conventional in its left half, NDP in its right.
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d((0i32..n as i32 - 1).into_segmented(), 0f64..top)
            .map_err(|e| fail(title, e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(n)
            .x_label_formatter(&name)
            .y_label_formatter(&|v| short(*v))
            .y_desc(unit)
            .draw()
            .map_err(|e| fail(title, e))?;
        for (k, (label, color)) in [("conventional", CONV), ("NDP", NDP)].into_iter().enumerate() {
            let rects = pairs.iter().enumerate().filter_map(move |(i, p)| {
                let v = if k == 0 { p.conv } else { p.ndp }?;
                let i = i as i32;
                let (a, b) = if k == 0 {
                    (SegmentValue::Exact(i), SegmentValue::CenterOf(i))
                } else {
                    (SegmentValue::CenterOf(i), SegmentValue::Exact(i + 1))
                };
                let mut r = Rectangle::new([(a, 0.0), (b, v)], color.filled());
                r.set_margin(0, 0, if k == 0 { 12 } else { 1 }, if k == 0 { 1 } else { 12 });
                Some(r)
            });
            chart
                .draw_series(rects)
                .map_err(|e| fail(title, e))?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(title, e))
    })
}

/// The top of the utilization charts' y axis, in percent.
const TOP: f64 = 145.0;

/// Busy fraction (0-100 %) of each series over simulated time, the runs' windows shaded.
pub fn utilization(
    title: &str,
    tl: &Timeline,
    series: &[Series],
    windows: &[Window],
) -> Result<String, SuiteError> {
    let end = tl.end_s().max(1e-9);
    svg(title, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            // Headroom above 100 % for the legend and the windows' labels.
            .build_cartesian_2d(0f64..end, 0f64..TOP)
            .map_err(|e| fail(title, e))?;
        chart
            .configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc("busy %")
            .light_line_style(WHITE)
            .x_label_formatter(&|v| short(*v))
            .y_label_formatter(&|v| {
                if *v <= 100.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| fail(title, e))?;
        let shade = RGBColor(0x88, 0x88, 0x88);
        chart
            .draw_series(windows.iter().enumerate().map(|(i, w)| {
                let alpha = if i % 2 == 0 { 0.10 } else { 0.20 };
                Rectangle::new([(w.start_s, 0.0), (w.end_s, 100.0)], shade.mix(alpha).filled())
            }))
            .map_err(|e| fail(title, e))?;
        chart
            .draw_series(windows.iter().enumerate().map(|(i, w)| {
                let y = TOP - 3.0 - 7.0 * (i % 6) as f64;
                Text::new(w.label.clone(), (w.start_s, y), ("sans-serif", 10))
            }))
            .map_err(|e| fail(title, e))?;
        for (i, s) in series.iter().enumerate() {
            let color = LINES[i % LINES.len()];
            // Earlier series are drawn wider, so a line under a later one at the same level
            // still shows.
            let width = (2 + 2 * (series.len() - 1 - i) as u32).min(6);
            let points = s
                .busy
                .iter()
                .enumerate()
                .flat_map(|(b, f)| [(tl.start_s(b), f * 100.0), (tl.start_s(b + 1), f * 100.0)]);
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(width)))
                .map_err(|e| fail(title, e))?
                .label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(|e| fail(title, e))
    })
}

/// A short axis number: `1.2k`, `3.4M`, `0.25`.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 1.0 || a == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_lines_are_svg_with_their_labels() {
        let pairs = [
            Pair {
                label: "grep".into(),
                conv: Some(2.0),
                ndp: Some(1.0),
            },
            Pair {
                label: "wordcount".into(),
                conv: Some(1.0),
                ndp: None,
            },
        ];
        let s = bars("time", "s", &pairs).unwrap();
        assert!(
            s.starts_with("<svg") && s.contains("wordcount") && s.contains("NDP"),
            "{s}"
        );
        let tl = Timeline::new(1_000, 4);
        let series = [Series {
            label: "ARM core 0".into(),
            busy: vec![0.0, 0.5, 1.0, 0.25],
        }];
        let w = [Window {
            label: "grep NDP".into(),
            start_s: 0.0,
            end_s: 5e-7,
        }];
        let s = utilization("busy", &tl, &series, &w).unwrap();
        assert!(
            s.contains("<polyline") && s.contains("ARM core 0") && s.contains("grep NDP"),
            "{s}"
        );
        assert_eq!(short(1500.0), "1.5k");
        assert_eq!(short(0.0), "0.0");
    }
}
