//! Benches for the module ABI and fibers (issue targets: fiber switch <= 100 ns; small-message
//! put + get between two SSDlets through the ABI <= 200 ns).
//!
//! - `fiber/resume_suspend`: one resume of a fiber that immediately suspends again: two stack
//!   switches, plus the trap bookkeeping `Fiber::resume` does.
//! - `fiber/spawn_fresh_stack` / `fiber/spawn_pooled_stack`: a fiber created, run to its end
//!   and dropped, on a newly mapped stack or on one a `StackPool` kept (zeroed when given
//!   back); the ratio of the two is printed from interleaved rounds.
//! - `abi/put_get`: `count` streams `n` u64s to `sum` through the driver (channel capacity
//!   64): per message one `put` and one `get` through the C vtable, postcard encode/decode,
//!   and the fiber switches the driver needs.
//! - `abi/put_get_batched`: the same stream from `count_all` to `sum_batch` (`Output::put_all`,
//!   `Input::get_batch` of up to 64): one runtime call per batch instead of per message, each
//!   message still counted and charged as a message; its ratio to `abi/put_get` is printed too.
//! - `abi/put_get_floor`: the same per message without the runtime (postcard encode and
//!   decode, two calls through C function pointers); the ratio to it, and fiber switches' to a
//!   bare corosensei coroutine, are printed from interleaved rounds in the same run.
//! - `abi/round_trip`: `ping` sends a u64 to `echo` and waits for it back: per iteration two
//!   puts, two gets and at least two resumes of each fiber.
//!
//! Modules are built in release mode by `ssdlet-module-build` before measuring.
//! Run: `cargo bench -p device-runtime --bench fiber_abi`.

#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn benches`.

use std::time::{Duration, Instant};

use corosensei::stack::DefaultStack;
use corosensei::Coroutine;
use criterion::{criterion_group, criterion_main, Criterion};
use device_runtime::driver::{ArgValue, DriverConfig, TestDriver};
use device_runtime::fiber::{Fiber, FiberExit, Suspender};
use device_runtime::loader::{LoadedModule, Loader};
use device_runtime::stacks::StackPool;
use ssdlet_abi::Status;
use ssdlet_module_build::{build, Profile};

fn testkit() -> LoadedModule {
    let modules = match build(Profile::Release) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let loader = Loader::with_temp_staging().expect("staging dir");
    loader.load(&modules.testkit()).expect("testkit loads")
}

/// Median nanoseconds per step of `a` and of `b`, from `ROUNDS` interleaved rounds of `n`
/// steps each (each returns the time its steps took), so both see the same machine load.
fn interleaved(n: u32, mut a: impl FnMut(u32) -> Duration, mut b: impl FnMut(u32) -> Duration) -> (f64, f64) {
    const ROUNDS: usize = 11;
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ta.push(a(n).as_nanos() as f64 / f64::from(n));
        tb.push(b(n).as_nanos() as f64 / f64::from(n));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb))
}

/// The time `f` takes.
fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn fiber_switch(c: &mut Criterion) {
    let mut fiber = Fiber::new(64 * 1024, |s| -> FiberExit {
        loop {
            s.suspend();
        }
    })
    .expect("fiber");
    // The limit: a bare corosensei coroutine on the same kind of stack, resumed and suspended.
    let mut bare: Coroutine<(), (), (), DefaultStack> =
        Coroutine::with_stack(DefaultStack::new(64 * 1024).expect("stack"), |y, ()| loop {
            y.suspend(());
        });
    c.bench_function("fiber/resume_suspend", |b| b.iter(|| fiber.resume()));
    c.bench_function("fiber/bare_corosensei", |b| b.iter(|| bare.resume(())));
    let (ours, limit) = interleaved(
        1_000_000,
        |n| {
            timed(|| {
                (0..n).for_each(|_| {
                    std::hint::black_box(fiber.resume());
                })
            })
        },
        |n| {
            timed(|| {
                (0..n).for_each(|_| {
                    std::hint::black_box(bare.resume(()));
                })
            })
        },
    );
    eprintln!(
        "fiber/resume_suspend {ours:.1} ns beside a bare corosensei switch pair {limit:.1} ns in the same run: {:.2}x",
        ours / limit
    );
}

/// One short-lived fiber on a 256 KiB stack (the runtime's default) that touches 8 KiB of it
/// and returns: its stack mapped anew (`Fiber::new`) vs taken from and given back to a
/// `StackPool`, as the runtime spawns and finishes SSDlets.
fn fiber_spawn(c: &mut Criterion) {
    const STACK: usize = 256 * 1024;
    fn body(_: &Suspender<'_>) -> FiberExit {
        let mut frame = [0u8; 8 * 1024];
        std::hint::black_box(&mut frame);
        FiberExit::Returned(Status::OK)
    }
    let fresh = || {
        let mut f = Fiber::new(STACK, body).expect("fiber");
        std::hint::black_box(f.resume());
    };
    let mut pool = StackPool::new(STACK, 4);
    let mut pooled = move || {
        let mut f = Fiber::with_stack(pool.take().expect("stack"), body);
        std::hint::black_box(f.resume());
        pool.give(f.into_stack().expect("finished"));
    };
    c.bench_function("fiber/spawn_fresh_stack", |b| b.iter(fresh));
    c.bench_function("fiber/spawn_pooled_stack", |b| b.iter(&mut pooled));
    let (ours, fresh_ns) = interleaved(
        20_000,
        |n| timed(|| (0..n).for_each(|_| pooled())),
        |n| timed(|| (0..n).for_each(|_| fresh())),
    );
    eprintln!(
        "fiber/spawn {ours:.0} ns on a pooled stack beside {fresh_ns:.0} ns on a newly mapped one in the same run: {:.2}x",
        ours / fresh_ns
    );
}

/// Wall time of `count(n) -> sum` with SSDlets `sender` and `receiver` (`receiver_args`).
fn stream(
    m: &LoadedModule,
    sender: &str,
    receiver: &str,
    receiver_args: &[ArgValue],
) -> impl Fn(u64) -> Duration {
    let (count, sum) = (m.ssdlet(sender).unwrap(), m.ssdlet(receiver).unwrap());
    let receiver_args = receiver_args.to_vec();
    move |iters: u64| {
        let mut d = TestDriver::new(DriverConfig::default());
        let src = d.spawn(&count, &[ArgValue::U64(iters)]).unwrap();
        let dst = d.spawn(&sum, &receiver_args).unwrap();
        d.connect(src, "out", dst, "in").unwrap();
        let total = d.sink(dst, "total").unwrap();
        let start = Instant::now();
        d.run().unwrap();
        let t = start.elapsed();
        assert_eq!(
            d.take::<u64>(total).unwrap(),
            vec![iters * iters.saturating_sub(1) / 2]
        );
        t
    }
}

fn put_get(c: &mut Criterion) {
    let m = testkit();
    let run = stream(&m, "count", "sum", &[]);
    let batched = stream(&m, "count_all", "sum_batch", &[ArgValue::U64(64)]);
    c.bench_function("abi/put_get", |b| b.iter_custom(&run));
    c.bench_function("abi/put_get_batched", |b| b.iter_custom(&batched));
    c.bench_function("abi/put_get_floor", |b| b.iter(|| floor_message(1)));
    let floor = |n| {
        timed(|| {
            std::hint::black_box(floor_message(n));
        })
    };
    for (name, run) in [("abi/put_get", &run), ("abi/put_get_batched", &batched)] {
        let (ours, limit) = interleaved(200_000, |n| run(u64::from(n)), floor);
        eprintln!(
            "{name} {ours:.1} ns ({:.1} M msgs/s) beside its floor, a postcard encode and decode of \
             the u64 and two plain calls through C function pointers, {limit:.1} ns in the same run: {:.2}x",
            1e3 / ours,
            ours / limit
        );
    }
    let (batch, single) = interleaved(200_000, |n| batched(u64::from(n)), |n| run(u64::from(n)));
    eprintln!(
        "abi/put_get_batched {batch:.1} ns beside abi/put_get {single:.1} ns in the same run: {:.2}x",
        batch / single
    );
}

extern "C" fn floor_put(ptr: *const u8, len: usize) -> u32 {
    std::hint::black_box((ptr, len));
    0
}

extern "C" fn floor_get(ptr: *mut u8, len: usize) -> u32 {
    std::hint::black_box((ptr, len));
    0
}

/// What any put + get of `n` u64 messages through a C ABI must do, without the runtime:
/// encode each, call "put" through a function pointer, call "get" and decode. Returns the sum.
fn floor_message(n: u32) -> u64 {
    let put: extern "C" fn(*const u8, usize) -> u32 = std::hint::black_box(floor_put);
    let get: extern "C" fn(*mut u8, usize) -> u32 = std::hint::black_box(floor_get);
    let mut buf = [0u8; 16];
    let mut total = 0u64;
    for i in 0..u64::from(n) {
        let used = postcard::to_slice(&i, &mut buf).map(|b| b.len()).unwrap_or(0);
        put(buf.as_ptr(), used);
        get(buf.as_mut_ptr(), used);
        total = total.wrapping_add(postcard::from_bytes::<u64>(&buf[..used]).unwrap_or(0));
    }
    total
}

fn round_trip(c: &mut Criterion) {
    let m = testkit();
    let (ping, echo) = (m.ssdlet("ping").unwrap(), m.ssdlet("echo").unwrap());
    c.bench_function("abi/round_trip", |b| {
        b.iter_custom(|iters| {
            let mut d = TestDriver::new(DriverConfig::default());
            let p = d.spawn(&ping, &[ArgValue::U64(iters)]).unwrap();
            let e = d.spawn(&echo, &[]).unwrap();
            d.connect(p, "ping", e, "in").unwrap();
            d.connect(e, "out", p, "pong").unwrap();
            let start = Instant::now();
            d.run().unwrap();
            let t = start.elapsed();
            assert_eq!(d.outcome(p), Some(&Ok(())));
            t
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = fiber_switch, fiber_spawn, put_get, round_trip
}
criterion_main!(benches);
