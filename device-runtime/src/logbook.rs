//! [`LogBook`]: the lines one Application's SSDlets logged, bounded: the most recent
//! [`LogBook::KEEP`] lines of at most [`LogBook::MAX_TEXT`] bytes each, numbered from the
//! Application's first line, so a host reading them in turns (`IscRequest::Logs`) never sees one
//! twice and learns how many it missed.

use std::collections::VecDeque;

use crate::world::LogLine;

/// One Application's log (module docs).
#[derive(Debug, Default)]
pub(crate) struct LogBook {
    lines: VecDeque<LogLine>,
    /// The number of `lines[0]`: lines dropped before it.
    first: u64,
}

impl LogBook {
    /// Lines kept per Application.
    pub(crate) const KEEP: usize = 10_000;
    /// Bytes kept of one line's text (cut at a character boundary).
    pub(crate) const MAX_TEXT: usize = 4096;

    /// Adds a line, cutting its text and dropping the oldest line when full.
    pub(crate) fn push(&mut self, mut line: LogLine) {
        if line.text.len() > Self::MAX_TEXT {
            let mut cut = Self::MAX_TEXT;
            while !line.text.is_char_boundary(cut) {
                cut -= 1;
            }
            line.text.truncate(cut);
        }
        if self.lines.len() == Self::KEEP {
            self.lines.pop_front();
            self.first += 1;
        }
        self.lines.push_back(line);
    }

    /// Up to `max` lines from number `from` (or from the oldest kept, if `from` was dropped),
    /// the number after the last one returned, and how many were dropped so far.
    pub(crate) fn read(&self, from: u64, max: usize) -> (Vec<LogLine>, u64, u64) {
        let start = from.max(self.first);
        let skip = usize::try_from(start - self.first).unwrap_or(usize::MAX);
        let lines: Vec<LogLine> = self.lines.iter().skip(skip).take(max).cloned().collect();
        let next = start + lines.len() as u64;
        (lines, next, self.first)
    }

    /// Every line kept, oldest first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &LogLine> {
        self.lines.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_nvme::SimTime;
    use ssdlet_abi::LogLevel;

    fn line(i: usize) -> LogLine {
        LogLine {
            ssdlet: "s".into(),
            level: LogLevel::INFO,
            text: format!("{i}"),
            at: SimTime(i as u64),
        }
    }

    #[test]
    fn bounded_numbered_and_read_in_turns() {
        let mut b = LogBook::default();
        for i in 0..LogBook::KEEP + 5 {
            b.push(line(i));
        }
        let (l, next, dropped) = b.read(0, 3);
        assert_eq!((l[0].text.as_str(), next, dropped), ("5", 8, 5));
        let (l, next, _) = b.read(next, usize::MAX);
        assert_eq!((l.len(), next), (LogBook::KEEP - 3, (LogBook::KEEP + 5) as u64));
        assert!(b.read(next, 10).0.is_empty());
        let mut long = line(0);
        long.text = "é".repeat(LogBook::MAX_TEXT);
        b.push(long);
        let kept = &b.read(next, 1).0[0].text;
        assert!(kept.len() <= LogBook::MAX_TEXT && kept.chars().all(|c| c == 'é'));
    }
}
