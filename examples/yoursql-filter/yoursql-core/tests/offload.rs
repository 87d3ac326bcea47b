//! End to end on the simulated SSD at TPC-H SF 0.01: the matcher, fed with the keys of a
//! predicate, hints a superset of the pages holding matching rows, and the software filter over
//! the hinted pages returns exactly the rows a plain scan of the generated data returns.
//!
//! Hint ratios are printed: `cargo test -p yoursql-core --test offload -- --nocapture`.

use std::sync::OnceLock;

use sim_nvme::{DeviceProfile, Lba, MatchMode, SimTime, Ssd};
use yoursql_core::tpch::{self, TableDesc};
use yoursql_core::{decode_page, CmpOp, EncodedTable, NotOffloadable, Predicate, Value, PAGE_BYTES};

const SF: f64 = 0.01;

struct Data {
    rows: Vec<Vec<Value>>,
    table: EncodedTable,
}

fn generate(lineitem: bool) -> Data {
    let (schema, rows): (_, Vec<Vec<Value>>) = if lineitem {
        let rows = tpch::lineitem_rows(SF)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (tpch::lineitem_schema(), rows)
    } else {
        let rows = tpch::part_rows(SF).unwrap().collect::<Result<_, _>>().unwrap();
        (tpch::part_schema(), rows)
    };
    let table = tpch::encode_rows(schema, rows.iter().cloned().map(Ok)).unwrap();
    Data { rows, table }
}

fn lineitem() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| generate(true))
}

fn part() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| generate(false))
}

fn date(s: &str) -> Value {
    Value::date(s).unwrap()
}

fn dec(s: &str) -> Value {
    Value::decimal(s).unwrap()
}

/// Loads `data` at a non-zero LBA of a fresh device.
fn device(data: &Data, profile: DeviceProfile) -> (Ssd, TableDesc) {
    let mut ssd = Ssd::in_memory(profile).unwrap();
    let (desc, _) = tpch::write_table(&mut ssd, SimTime::ZERO, Lba(64), &data.table).unwrap();
    assert_eq!(desc.rows, data.rows.len() as u64);
    (ssd, desc)
}

// INVARIANT(keys-conservative): checked against a decode of every page
/// Runs the offload and checks it against the truth; returns (hinted, pages holding matches).
fn check(name: &str, data: &Data, pred: Predicate, profile: DeviceProfile) -> (u64, u64) {
    let (mut ssd, desc) = device(data, profile);
    let bound = pred.bind(&desc.schema).unwrap();
    let plan = bound.match_plan(&ssd.profile().matcher).unwrap();
    let (hints, _) = ssd
        .match_scan(SimTime::ZERO, &plan.request(desc.first_lba, desc.pages))
        .unwrap();
    assert_eq!(hints.hints.len() as u64, desc.pages);

    let (bytes, _) = tpch::read_pages(&mut ssd, SimTime::ZERO, &desc, 0, desc.pages).unwrap();
    let mut true_pages = 0;
    let mut from_hinted = Vec::new();
    for (i, page) in bytes.chunks(PAGE_BYTES).enumerate() {
        let rows = decode_page(&desc.schema, page).unwrap();
        let holds_match = rows.iter().any(|r| bound.matches(r));
        if holds_match {
            true_pages += 1;
            assert!(
                hints.hints[i],
                "{name}: page {i} holds a matching row but was not hinted ({plan:?})"
            );
        }
        if hints.hints[i] {
            from_hinted.extend(bound.filter_page(page).unwrap());
        }
    }
    let expected: Vec<Vec<Value>> = data.rows.iter().filter(|r| bound.matches(r)).cloned().collect();
    assert!(
        !expected.is_empty(),
        "{name}: the query should select rows at SF {SF}"
    );
    assert_eq!(from_hinted, expected, "{name}: software filter over hinted pages");

    let hinted = hints.count();
    println!(
        "{name}: `{bound}` -> {} key(s) {:?} {:02x?}; hinted {hinted}/{} pages = {:.2}% \
         (pages holding matches {true_pages}, rows {}, limiting score {})",
        plan.keys.len(),
        plan.mode,
        plan.keys,
        desc.pages,
        100.0 * hinted as f64 / desc.pages as f64,
        expected.len(),
        bound.limiting_score(),
    );
    (hinted, true_pages)
}

#[test]
fn filter_query_shipdate_equality() {
    let pred = Predicate::cmp("l_shipdate", CmpOp::Eq, date("1995-01-17"));
    let (hinted, truth) = check("filter query", lineitem(), pred, DeviceProfile::tiny());
    // The date key is column-tagged and exact: every hinted page holds a matching row here.
    assert_eq!(hinted, truth);
}

#[test]
fn q14_month_range_is_the_month_prefix() {
    let pred = Predicate::And(vec![
        Predicate::cmp("l_shipdate", CmpOp::Ge, date("1995-09-01")),
        Predicate::cmp("l_shipdate", CmpOp::Lt, date("1995-10-01")),
    ]);
    let (hinted, truth) = check("Q14 lineitem", lineitem(), pred, DeviceProfile::tiny());
    // The month is exactly one prefix: no page is hinted without a September 1995 shipment.
    assert_eq!(hinted, truth);
}

#[test]
fn q6_predicates() {
    let pred = Predicate::And(vec![
        Predicate::cmp("l_shipdate", CmpOp::Ge, date("1994-01-01")),
        Predicate::cmp("l_shipdate", CmpOp::Lt, date("1995-01-01")),
        Predicate::between("l_discount", dec("0.05"), dec("0.07")),
        Predicate::cmp("l_quantity", CmpOp::Lt, Value::Int(24)),
    ]);
    let bound = pred.bind(&tpch::lineitem_schema()).unwrap();
    let plan = bound.match_plan(&DeviceProfile::tiny().matcher).unwrap();
    assert_eq!((plan.mode, plan.keys.len()), (MatchMode::Any, 3));
    check("Q6", lineitem(), pred, DeviceProfile::tiny());
}

#[test]
fn part_predicates_q14_and_q2() {
    check(
        "Q14 part",
        part(),
        Predicate::like("p_type", "PROMO%"),
        DeviceProfile::tiny(),
    );
    check(
        "Q2 part",
        part(),
        Predicate::And(vec![
            Predicate::cmp("p_size", CmpOp::Eq, Value::Int(15)),
            Predicate::like("p_type", "%BRASS"),
        ]),
        DeviceProfile::tiny(),
    );
    check(
        "contains",
        part(),
        Predicate::like("p_name", "%green%"),
        DeviceProfile::tiny(),
    );
}

#[test]
fn works_on_the_pm1725_profile_too() {
    let pred = Predicate::And(vec![
        Predicate::cmp("l_shipmode", CmpOp::Eq, Value::str("AIR")),
        Predicate::cmp("l_returnflag", CmpOp::Eq, Value::str("R")),
        Predicate::cmp("l_receiptdate", CmpOp::Eq, date("1994-03-02")),
    ]);
    check("3 equalities, pm1725", lineitem(), pred, DeviceProfile::pm1725());
}

#[test]
fn a_wide_range_is_not_offloaded() {
    let pred = Predicate::cmp("l_quantity", CmpOp::Lt, Value::Int(24));
    let bound = pred.bind(&tpch::lineitem_schema()).unwrap();
    let e = bound.match_plan(&DeviceProfile::tiny().matcher).unwrap_err();
    assert!(matches!(e, NotOffloadable::RangeTooWide { .. }), "{e}");
    assert!(e.to_string().contains("l_quantity"), "{e}");
}
