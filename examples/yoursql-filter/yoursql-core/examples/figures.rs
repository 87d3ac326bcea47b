//! Figures of YourSQL's filter offload on a simulated `pm1725`: the filter query (and Q6 and
//! Q14's `part` predicate) scanned conventionally, offloaded, and with Auto's decision; the
//! simulated time, the I/O of each, and the loading time.
//!
//! ```text
//! cargo run --release -p yoursql-core --example figures -- --sf 1
//! ```

use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use host_sdk::{Device, DeviceProfile, ImageSpec};
use yoursql_core::{
    build_filter_module, open_catalog, store_table, CmpOp, Predicate, ScanMode, ScanOutput, Scanner,
    TpchTable, Value,
};

#[derive(Parser)]
struct Args {
    /// TPC-H scale factor.
    #[arg(long, default_value_t = 1.0)]
    sf: f64,
    /// Device profile: pm1725 or tiny.
    #[arg(long, default_value = "pm1725")]
    profile: String,
    /// Only the filter query.
    #[arg(long)]
    filter_only: bool,
    /// Keep the device in this image file: tables already there (same scale factor) are
    /// reused instead of generated and loaded again.
    #[arg(long)]
    image: Option<std::path::PathBuf>,
}

/// Device file recording the scale factor of the stored tables.
const SF_FILE: &str = "figures.sf";

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn line(mode: &str, o: &ScanOutput) {
    let s = &o.stats;
    println!(
        "  {mode:<8} rows {:>9}  simulated {:>10.3} ms  pages read {:>8} (host {:>8}, device {:>8})  PCIe {:>12} B  I/O {:>9.3} ms  host compute {:>9.3} ms  device filter {:>9.3} ms",
        o.rows.len(),
        ms(s.simulated_ns),
        s.pages_read,
        s.pages_transferred,
        s.pages_scanned_on_device,
        s.pcie_bytes,
        ms(s.io_ns),
        ms(s.host_compute_ns),
        ms(s.filter_ns),
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let profile = match args.profile.as_str() {
        "pm1725" => DeviceProfile::pm1725(),
        "tiny" => DeviceProfile::tiny(),
        p => anyhow::bail!("unknown profile `{p}`; expected pm1725 or tiny"),
    };
    let t = Instant::now();
    let module = build_filter_module(true).context("building the filter module")?;
    println!("filter module built in {:.1} s", t.elapsed().as_secs_f64());
    let dev = match &args.image {
        Some(p) => Device::embedded(profile, ImageSpec::File(p.clone()))?,
        None => Device::embedded(profile, ImageSpec::Memory)?,
    };
    // The scale factor the image's tables were generated at (written after loading them).
    let same_sf = dev
        .get_bytes(SF_FILE)
        .is_ok_and(|b| b == args.sf.to_string().as_bytes());
    let stored = if same_sf {
        open_catalog(&dev)?
    } else {
        Default::default()
    };

    let tables: &[TpchTable] = if args.filter_only {
        &[TpchTable::Lineitem]
    } else {
        // The tables its queries read (filter, Q6, Q14).
        &[TpchTable::Lineitem, TpchTable::Part]
    };
    let mut catalog = Vec::new();
    for &t in tables {
        if let Some(table) = stored.get(t.name()) {
            println!(
                "reusing {} from the image: {} rows, {} pages",
                t.name(),
                table.rows,
                table.pages
            );
            catalog.push(table.clone());
            continue;
        }
        let g = Instant::now();
        let enc = t.encode(args.sf)?;
        let gen_s = g.elapsed().as_secs_f64();
        let p = Instant::now();
        let sim0 = dev.now();
        let table = store_table(&dev, &enc)?;
        println!(
            "loaded {} at SF {}: {} rows, {} pages ({:.1} MiB); generate+encode {:.1} s, store on the device {:.1} s wall ({:.1} ms simulated)",
            t.name(),
            args.sf,
            table.rows,
            table.pages,
            table.bytes() as f64 / (1 << 20) as f64,
            gen_s,
            p.elapsed().as_secs_f64(),
            ms(dev.now().saturating_since(sim0).0),
        );
        catalog.push(table);
    }
    if dev.file_info(SF_FILE).is_ok() {
        dev.remove_file(SF_FILE)?;
    }
    dev.put_bytes(SF_FILE, args.sf.to_string().as_bytes())?;
    let scanner = Scanner::new(&dev, &module)?;
    let date = |s: &str| Value::date(s).expect("a date literal");
    let dec = |s: &str| Value::decimal(s).expect("a decimal literal");
    let mut queries = vec![(
        "filter query: l_shipdate = DATE '1995-01-17'",
        0usize,
        vec![Predicate::cmp("l_shipdate", CmpOp::Eq, date("1995-01-17"))],
    )];
    if !args.filter_only {
        queries.push((
            "Q6: l_shipdate in 1994, l_discount BETWEEN 0.05 AND 0.07, l_quantity < 24",
            0,
            vec![
                Predicate::cmp("l_shipdate", CmpOp::Ge, date("1994-01-01")),
                Predicate::cmp("l_shipdate", CmpOp::Lt, date("1995-01-01")),
                Predicate::between("l_discount", dec("0.05"), dec("0.07")),
                Predicate::cmp("l_quantity", CmpOp::Lt, Value::Int(24)),
            ],
        ));
        queries.push((
            "Q14 lineitem: l_shipdate in September 1995",
            0,
            vec![
                Predicate::cmp("l_shipdate", CmpOp::Ge, date("1995-09-01")),
                Predicate::cmp("l_shipdate", CmpOp::Lt, date("1995-10-01")),
            ],
        ));
        queries.push((
            "Q14 part: p_type LIKE 'PROMO%'",
            1,
            vec![Predicate::like("p_type", "PROMO%")],
        ));
    }
    for (name, ti, preds) in queries {
        let table = &catalog[ti];
        let bound = preds
            .iter()
            .map(|p| p.bind(&table.schema))
            .collect::<Result<Vec<_>, _>>()?;
        println!("\n{name} ({} pages)", table.pages);
        let conv = scanner.scan_collect(table, &bound, None, ScanMode::Conv)?;
        line("conv", &conv);
        let off = scanner.scan_collect(table, &bound, None, ScanMode::Offload)?;
        line("offload", &off);
        anyhow::ensure!(off.rows == conv.rows, "{name}: offload and conv rows differ");
        let auto = scanner.scan_collect(table, &bound, None, ScanMode::Auto)?;
        line("auto", &auto);
        anyhow::ensure!(auto.rows == conv.rows, "{name}: auto and conv rows differ");
        let d = &auto.stats.decision;
        println!(
            "  offload speedup {:.2}x, PCIe bytes {:.1}x fewer, host pages {:.1}x fewer",
            conv.stats.simulated_ns as f64 / off.stats.simulated_ns.max(1) as f64,
            conv.stats.pcie_bytes as f64 / off.stats.pcie_bytes.max(1) as f64,
            conv.stats.pages_transferred as f64 / off.stats.pages_transferred.max(1) as f64,
        );
        println!(
            "  auto: offloaded={} (limiting score {}, {} key(s), sampler {} of {} pages hinted in {:.3} ms): {}",
            d.offloaded,
            d.limiting_score,
            d.keys,
            d.sampled_hinted,
            d.sampled_pages,
            ms(d.sample_ns),
            d.reason
        );
    }
    Ok(())
}
