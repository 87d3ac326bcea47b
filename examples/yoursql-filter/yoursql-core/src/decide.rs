//! Whether a scan offloads its filter (YourSQL's sampling-driven filtering condition
//! pushdown), in this order:
//!
//! 1. `Conv` asked for: no.
//! 2. No filter predicate, no filter module, or predicates without matcher keys
//!    ([`crate::NotOffloadable`]): no (`Offload` then fails with the reason).
//! 3. `Offload` asked for: yes.
//! 4. `Auto`: the limiting score must reach [`crate::predicate::score::THRESHOLD`], the table
//!    must have at least [`ScanConfig::min_table_pages`] pages, and the `sampler` SSDlet, run on
//!    a seeded sample of runs of pages, must estimate that the matcher hints at most
//!    [`ScanConfig::max_hint_ratio`] of the pages. The sampler's time is part of the scan.
//!    Before the sampler: a table that fits in the host buffer pool ([`crate::pool`]) and is at
//!    least half in it is read conventionally, since most of its pages cost no I/O.
//!
//! [`ScanConfig::min_table_pages`]: crate::scan::ScanConfig::min_table_pages
//! [`ScanConfig::max_hint_ratio`]: crate::scan::ScanConfig::max_hint_ratio

use host_sdk::{Application, Arg};

use crate::error::ScanError;
use crate::keys::MatchPlan;
use crate::predicate::score;
use crate::scan::{Decision, RowFilter, ScanMode, Scanner};
use crate::store::DeviceTable;
use crate::wire;

/// A decision and, if offloaded, the plan to run.
pub(crate) struct Decided {
    pub(crate) decision: Decision,
    pub(crate) plan: Option<MatchPlan>,
}

pub(crate) fn decide(
    s: &Scanner,
    table: &DeviceTable,
    rf: &RowFilter,
    mode: ScanMode,
) -> Result<Decided, ScanError> {
    let mut d = Decision {
        offloaded: false,
        limiting_score: rf.pred.as_ref().map_or(0, |p| p.limiting_score()),
        keys: 0,
        sampled_pages: 0,
        sampled_hinted: 0,
        sampled_ratio: None,
        sample_ns: 0,
        reason: String::new(),
    };
    let conv = |mut d: Decision, reason: String| -> Result<Decided, ScanError> {
        if mode == ScanMode::Offload {
            return Err(ScanError::CannotOffload {
                table: table.name().to_string(),
                reason,
            });
        }
        d.reason = reason;
        Ok(Decided {
            decision: d,
            plan: None,
        })
    };
    if mode == ScanMode::Conv {
        return conv(d, "conventional scan asked for".into());
    }
    let Some(pred) = &rf.pred else {
        return conv(d, "no filter predicate to offload".into());
    };
    let (Some(_), Some(limits)) = (&s.module, &s.limits) else {
        return conv(
            d,
            "the filter module is not loaded (Scanner::conventional)".into(),
        );
    };
    let plan = match pred.match_plan(&limits.matcher) {
        Ok(p) => p,
        Err(e) => return conv(d, format!("no matcher keys: {e}")),
    };
    d.keys = plan.keys.len();
    if mode == ScanMode::Offload {
        d.offloaded = true;
        d.reason = "offload asked for".into();
        return Ok(Decided {
            decision: d,
            plan: Some(plan),
        });
    }
    if d.limiting_score < score::THRESHOLD {
        let r = format!(
            "limiting score {} is below the threshold {}",
            d.limiting_score,
            score::THRESHOLD
        );
        return conv(d, r);
    }
    if table.pages < s.config.min_table_pages {
        let r = format!(
            "table has {} pages, fewer than {} (small table)",
            table.pages, s.config.min_table_pages
        );
        return conv(d, r);
    }
    // Only a table that fits in the pool keeps its pages there through a scan: for a larger one
    // LRU evicts each resident chunk before the scan reaches it.
    if let Some(pool) = s
        .config
        .buffer_pool
        .as_ref()
        .filter(|p| table.bytes() <= p.stats().capacity)
    {
        let resident = pool.resident_bytes(&table.file);
        if table.bytes() > 0 && resident * 2 >= table.bytes() {
            let r = format!(
                "{:.0}% of the table is in the host buffer pool: reading it costs little I/O",
                100.0 * resident as f64 / table.bytes() as f64
            );
            return conv(d, r);
        }
    }
    let (sampled, hinted, ns) = sample(s, table, &plan)?;
    d.sampled_pages = sampled;
    d.sampled_hinted = hinted;
    d.sample_ns = ns;
    let ratio = if sampled == 0 {
        1.0
    } else {
        hinted as f64 / sampled as f64
    };
    d.sampled_ratio = Some(ratio);
    let max = s.config.max_hint_ratio;
    if ratio <= max {
        d.offloaded = true;
        d.reason = format!(
            "limiting score {} >= {}; sampler: {hinted} of {sampled} pages hinted ({:.2}%) <= {:.0}%",
            d.limiting_score,
            score::THRESHOLD,
            100.0 * ratio,
            100.0 * max
        );
        Ok(Decided {
            decision: d,
            plan: Some(plan),
        })
    } else {
        let r = format!(
            "sampler: {hinted} of {sampled} pages hinted ({:.2}%) > {:.0}%: the host would read most pages anyway",
            100.0 * ratio,
            100.0 * max
        );
        conv(d, r)
    }
}

/// How many pages the sampler scans.
pub(crate) fn sample_pages(s: &Scanner, pages: u64) -> u64 {
    let want = (pages as f64 * s.config.sample_fraction.clamp(0.0, 1.0)).ceil() as u64;
    want.max(s.config.sample_min_pages).min(pages)
}

/// Runs the `sampler` SSDlet; returns (pages sampled, pages hinted, simulated ns).
fn sample(s: &Scanner, table: &DeviceTable, plan: &MatchPlan) -> Result<(u64, u64, u64), ScanError> {
    let Some(module) = &s.module else {
        return Ok((0, 0, 0));
    };
    let dev = &s.device;
    let t0 = dev.now();
    let app = Application::new(dev);
    let (keys, all) = wire::encode_plan(plan);
    let args: Vec<Arg> = vec![
        dev.file(&table.file),
        keys.into(),
        all.into(),
        sample_pages(s, table.pages).into(),
        s.config.sample_run_pages.max(1).into(),
        s.config.sample_seed.into(),
    ];
    let sampler = app.ssdlet(module, "sampler", args)?;
    let mut rx = app.connect_to::<(u64, u64)>(sampler.out(0))?;
    app.start()?;
    let got = rx.collect_all()?;
    app.wait()?;
    let (sampled, hinted) = got.first().copied().unwrap_or((0, 0));
    Ok((sampled, hinted, dev.now().saturating_since(t0).0))
}
