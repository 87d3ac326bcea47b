//! Progress on standard error with indicatif: one spinner naming the current step, and a line
//! per finished step. Hidden when standard error is not a terminal or output is JSON.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The progress display of one program run.
pub struct Progress {
    bar: ProgressBar,
    step: Option<(String, Instant)>,
}

impl Progress {
    /// Visible only if `visible` and standard error is a terminal.
    pub fn new(visible: bool) -> Progress {
        let bar = if visible && std::io::stderr().is_terminal() {
            let b = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        } else {
            ProgressBar::hidden()
        };
        Progress { bar, step: None }
    }

    /// A progress display that shows nothing.
    pub fn hidden() -> Progress {
        Progress::new(false)
    }

    /// Ends the current step (printing it with its wall time) and starts `what`.
    pub fn step(&mut self, what: impl Into<String>) {
        self.done();
        let what = what.into();
        self.bar.set_message(format!("{what} ..."));
        self.bar.reset_elapsed();
        self.step = Some((what, Instant::now()));
    }

    /// Ends the current step.
    pub fn done(&mut self) {
        if let Some((what, t)) = self.step.take() {
            self.bar
                .println(format!("  {what}: {:.2} s", t.elapsed().as_secs_f64()));
        }
    }

    /// Ends the display.
    pub fn finish(&mut self) {
        self.done();
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
