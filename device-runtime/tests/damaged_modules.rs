//! Damaged copies of a real module (issue 15: a module can crash only the device, never the
//! process that loads it). A seeded, deterministic set of copies of the testkit module, each
//! damaged once (byte flips, truncations, mutated ELF header, program header, dynamic, section
//! header, symbol and relocation fields); for each, either the static checks refuse it with a
//! typed error, or loading it (dlopen, entry points, metadata, init, unload) in a child process
//! ends normally: no signal, no other exit code, no hang past 10 s.
//!
//! The child is this test binary again, run with [`CHILD_ENV`] naming the copy to load.
//!
//! Random byte flips spare the executable segments: damaged machine code is the module's own
//! fault at run time, which no static check can see (the device process boundary is for that).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use device_runtime::loader::{inspect_bytes, LoadError, Loader};

/// Set in a child: the path of the damaged copy to load.
const CHILD_ENV: &str = "DEVICE_RUNTIME_DAMAGED_MODULE_CHILD";
/// This test's name, for the child's `--exact` filter.
const TEST_NAME: &str = "damaged_copies_are_refused_or_load_in_a_child_without_crashing";
/// How many damaged copies.
const COPIES: usize = 360;
/// The seed of the whole set (each copy's generator is derived from it and its index).
const SEED: u64 = 0x1515_D4A6_ED00_0001;
/// A child that has not ended by then is killed and counted as hung.
const CHILD_LIMIT: Duration = Duration::from_secs(10);
/// Children running at once.
const PARALLEL: usize = 3;

/// splitmix64: small, seeded, good enough to pick offsets and values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn rd(b: &[u8], at: usize, width: usize) -> u64 {
    let mut w = [0u8; 8];
    w[..width].copy_from_slice(&b[at..at + width]);
    u64::from_le_bytes(w)
}

fn wr(b: &mut [u8], at: usize, width: usize, v: u64) {
    b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
}

/// A new value for a field of `width` bytes holding `old`.
fn mutate_value(rng: &mut Rng, old: u64, width: usize, file_len: u64) -> u64 {
    let bits = (width * 8) as u64;
    let mask = if width == 8 { u64::MAX } else { (1 << bits) - 1 };
    let v = match rng.below(8) {
        0 => rng.next(),
        1 => old ^ (1 << rng.below(bits.min(48))),
        2 => old.wrapping_add(1 + rng.below(0x2000)),
        3 => old.wrapping_sub(1 + rng.below(0x2000)),
        4 => 0,
        5 => file_len + rng.below(0x10000),
        6 => old ^ (1 << (bits - 1 - rng.below(8))),
        _ => old.wrapping_add(8 * (1 + rng.below(64))),
    };
    let v = v & mask;
    if v == old {
        v ^ 1
    } else {
        v
    }
}

/// Where things are in the pristine module (file offsets).
struct Layout {
    phoff: usize,
    phnum: usize,
    shoff: usize,
    shnum: usize,
    /// (offset, filesz, flags) of each PT_LOAD.
    loads: Vec<(usize, usize, u32)>,
    /// File offsets of the dynamic entries (up to and including DT_NULL).
    dyns: Vec<usize>,
    /// File ranges of sections by name.
    sections: BTreeMap<String, (usize, usize)>,
}

fn layout(b: &[u8]) -> Layout {
    let elf = goblin::elf::Elf::parse(b).expect("the pristine module parses");
    let loads = elf
        .program_headers
        .iter()
        .filter(|ph| ph.p_type == goblin::elf::program_header::PT_LOAD)
        .map(|ph| (ph.p_offset as usize, ph.p_filesz as usize, ph.p_flags))
        .collect();
    let dynamic = elf
        .program_headers
        .iter()
        .find(|ph| ph.p_type == goblin::elf::program_header::PT_DYNAMIC)
        .expect("PT_DYNAMIC");
    let mut dyns = Vec::new();
    let mut at = dynamic.p_offset as usize;
    loop {
        dyns.push(at);
        if rd(b, at, 8) == 0 {
            break;
        }
        at += 16;
    }
    let sections = elf
        .section_headers
        .iter()
        .filter_map(|sh| {
            let name = elf.shdr_strtab.get_at(sh.sh_name)?;
            let range = (sh.sh_offset as usize, sh.sh_size as usize);
            (sh.sh_type != goblin::elf::section_header::SHT_NOBITS).then(|| (name.to_owned(), range))
        })
        .collect();
    Layout {
        phoff: elf.header.e_phoff as usize,
        phnum: elf.header.e_phnum as usize,
        shoff: elf.header.e_shoff as usize,
        shnum: elf.header.e_shnum as usize,
        loads,
        dyns,
        sections,
    }
}

/// Mutates the field of `width` bytes at `at`; returns a description.
fn mutate_field(rng: &mut Rng, b: &mut [u8], at: usize, width: usize, what: &str) -> String {
    let old = rd(b, at, width);
    let new = mutate_value(rng, old, width, b.len() as u64);
    wr(b, at, width, new);
    format!("{what} {old:#x} -> {new:#x}")
}

/// A random field of a record of `fields` (offset, width, name) at `base`.
fn mutate_record(
    rng: &mut Rng,
    b: &mut [u8],
    base: usize,
    fields: &[(usize, usize, &str)],
    what: &str,
) -> String {
    let (off, width, name) = rng.pick(fields);
    mutate_field(rng, b, base + off, width, &format!("{what}.{name}"))
}

const PHDR: &[(usize, usize, &str)] = &[
    (0, 4, "p_type"),
    (4, 4, "p_flags"),
    (8, 8, "p_offset"),
    (16, 8, "p_vaddr"),
    (32, 8, "p_filesz"),
    (40, 8, "p_memsz"),
    (48, 8, "p_align"),
];
const SHDR: &[(usize, usize, &str)] = &[
    (0, 4, "sh_name"),
    (4, 4, "sh_type"),
    (8, 8, "sh_flags"),
    (16, 8, "sh_addr"),
    (24, 8, "sh_offset"),
    (32, 8, "sh_size"),
    (40, 4, "sh_link"),
    (56, 8, "sh_entsize"),
];
const EHDR: &[(usize, usize, &str)] = &[
    (16, 2, "e_type"),
    (32, 8, "e_phoff"),
    (40, 8, "e_shoff"),
    (52, 2, "e_ehsize"),
    (54, 2, "e_phentsize"),
    (56, 2, "e_phnum"),
    (58, 2, "e_shentsize"),
    (60, 2, "e_shnum"),
    (62, 2, "e_shstrndx"),
];
const SYM: &[(usize, usize, &str)] = &[
    (0, 4, "st_name"),
    (4, 1, "st_info"),
    (6, 2, "st_shndx"),
    (8, 8, "st_value"),
    (16, 8, "st_size"),
];
const RELA: &[(usize, usize, &str)] = &[
    (0, 8, "r_offset"),
    (8, 4, "r_type"),
    (12, 4, "r_sym"),
    (16, 8, "r_addend"),
];

/// A random byte of `ranges` (offset, len) flipped in one bit.
fn flip_in(rng: &mut Rng, b: &mut [u8], ranges: &[(usize, usize)], what: &str) -> String {
    let total: usize = ranges.iter().map(|r| r.1).sum();
    let mut k = rng.below(total as u64) as usize;
    for &(off, len) in ranges {
        if k < len {
            let at = off + k;
            let bit = rng.below(8);
            b[at] ^= 1 << bit;
            return format!("{what}: byte {at:#x} bit {bit}");
        }
        k -= len;
    }
    unreachable!()
}

/// The `i`th damaged copy of `orig` and what was done to it.
fn damage(orig: &[u8], lay: &Layout, i: usize) -> (Vec<u8>, String) {
    let mut rng = Rng(SEED ^ (i as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut b = orig.to_vec();
    let len = b.len();
    let exec: Vec<(usize, usize)> = lay
        .loads
        .iter()
        .filter(|l| l.2 & goblin::elf::program_header::PF_X != 0)
        .map(|l| (l.0, l.1))
        .collect();
    let outside_exec = {
        let mut v = Vec::new();
        let mut at = 0;
        for &(off, n) in &exec {
            v.push((at, off - at));
            at = off + n;
        }
        v.push((at, len - at));
        v
    };
    let loaded_data: Vec<(usize, usize)> = lay
        .loads
        .iter()
        .filter(|l| l.2 & goblin::elf::program_header::PF_X == 0)
        .map(|l| (l.0, l.1))
        .collect();
    let section = |name: &str| lay.sections.get(name).copied();
    let what = match i % 10 {
        0 => {
            let n = 1 + rng.below(4);
            let mut what = Vec::new();
            for _ in 0..n {
                what.push(flip_in(&mut rng, &mut b, &outside_exec, "flip"));
            }
            what.join(", ")
        }
        1 => {
            let cut = match rng.below(3) {
                0 => rng.below(len as u64) as usize,
                1 => {
                    // Near the end of a loaded segment or of a section.
                    let (off, n, _) = lay.loads[rng.below(lay.loads.len() as u64) as usize];
                    (off + n).saturating_sub(rng.below(64) as usize)
                }
                _ => len - 1 - rng.below(4096) as usize,
            };
            b.truncate(cut);
            format!("truncated to {cut} of {len} bytes")
        }
        2 => {
            let k = rng.below(lay.phnum as u64) as usize;
            mutate_record(&mut rng, &mut b, lay.phoff + 56 * k, PHDR, &format!("phdr[{k}]"))
        }
        3 => {
            // p_filesz / p_memsz of a PT_LOAD (or any header).
            let k = rng.below(lay.phnum as u64) as usize;
            let at = lay.phoff + 56 * k;
            let (filesz, memsz) = (rd(&b, at + 32, 8), rd(&b, at + 40, 8));
            match rng.below(4) {
                0 if filesz > 0 => {
                    let m = filesz - 1 - rng.below(filesz.min(0x3000));
                    wr(&mut b, at + 40, 8, m);
                    format!("phdr[{k}].p_memsz {memsz:#x} -> {m:#x} (< p_filesz {filesz:#x})")
                }
                1 => {
                    let f = filesz + 1 + rng.below(0x4000);
                    wr(&mut b, at + 32, 8, f);
                    format!("phdr[{k}].p_filesz {filesz:#x} -> {f:#x}")
                }
                2 => {
                    wr(&mut b, at + 32, 8, memsz);
                    wr(&mut b, at + 40, 8, filesz);
                    format!("phdr[{k}] p_filesz/p_memsz swapped ({filesz:#x}, {memsz:#x})")
                }
                _ => {
                    let field = at + 32 + 8 * rng.below(2) as usize;
                    mutate_field(&mut rng, &mut b, field, 8, &format!("phdr[{k}].size"))
                }
            }
        }
        4 => {
            let k = rng.below(lay.dyns.len() as u64) as usize;
            let at = lay.dyns[k];
            let tag = rd(&b, at, 8);
            if rng.below(4) == 0 {
                let tags = [1, 2, 5, 6, 7, 8, 9, 10, 12, 13, 20, 22, 23, 25, 26, 27, 28, 0];
                let new = rng.pick(&tags);
                wr(&mut b, at, 8, new);
                format!("dyn[{k}] tag {tag:#x} -> {new:#x}")
            } else {
                mutate_field(
                    &mut rng,
                    &mut b,
                    at + 8,
                    8,
                    &format!("dyn[{k}] (tag {tag:#x}).d_val"),
                )
            }
        }
        5 => {
            let k = rng.below(lay.shnum as u64) as usize;
            mutate_record(&mut rng, &mut b, lay.shoff + 64 * k, SHDR, &format!("shdr[{k}]"))
        }
        6 => mutate_record(&mut rng, &mut b, 0, EHDR, "ehdr"),
        7 => {
            let (off, n) = section(".dynsym").expect(".dynsym");
            let k = 1 + rng.below(n as u64 / 24 - 1) as usize;
            mutate_record(&mut rng, &mut b, off + 24 * k, SYM, &format!("dynsym[{k}]"))
        }
        8 => {
            let name = if rng.below(3) == 0 {
                ".rela.plt"
            } else {
                ".rela.dyn"
            };
            let (off, n) = section(name).expect("relocations");
            let k = rng.below(n as u64 / 24) as usize;
            mutate_record(&mut rng, &mut b, off + 24 * k, RELA, &format!("{name}[{k}]"))
        }
        _ => {
            let names = [
                ".gnu.hash",
                ".gnu.version",
                ".gnu.version_r",
                ".dynstr",
                ".init_array",
                ".fini_array",
                ".dynamic",
            ];
            if rng.below(3) == 0 {
                flip_in(&mut rng, &mut b, &loaded_data, "flip in a loaded data segment")
            } else {
                let name = rng.pick(&names);
                let range = section(name).unwrap_or_else(|| panic!("{name}"));
                flip_in(&mut rng, &mut b, &[range], name)
            }
        }
    };
    (b, what)
}

/// In a child: load the copy, unload it, exit 0. Anything else (a signal, another exit code,
/// no exit) is the parent's finding.
fn child(path: &Path) -> ! {
    let loader = Loader::new(path.with_extension("staging")).expect("staging dir");
    match loader.load(path) {
        Ok(m) => {
            println!("CHILD loaded {}", m.meta().name);
            m.unload();
        }
        Err(e) => println!("CHILD refused: {e}"),
    }
    drop(loader);
    std::process::exit(0);
}

fn variant(e: &LoadError) -> String {
    let s = format!("{e:?}");
    s.split([' ', '{', '(']).next().unwrap_or("").to_owned()
}

struct Running {
    index: usize,
    what: String,
    child: Child,
    started: Instant,
}

#[test]
fn damaged_copies_are_refused_or_load_in_a_child_without_crashing() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        child(Path::new(&path));
    }
    let orig = std::fs::read(common::modules().testkit()).expect("testkit built");
    inspect_bytes(Path::new("testkit.so"), &orig).expect("the pristine module passes");
    let lay = layout(&orig);
    let scratch = common::scratch();

    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut to_load: Vec<(usize, String, PathBuf)> = Vec::new();
    for i in 0..COPIES {
        let (bytes, what) = damage(&orig, &lay, i);
        let name = format!("damaged-{i:03}.so");
        match inspect_bytes(Path::new(&name), &bytes) {
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(&name),
                    "copy {i} ({what}): the error names the file: {msg}"
                );
                *refused.entry(variant(&e)).or_default() += 1;
            }
            Ok(_) => {
                let path = scratch.path().join(&name);
                std::fs::write(&path, &bytes).expect("write the copy");
                to_load.push((i, what, path));
            }
        }
    }
    let n_refused: usize = refused.values().sum();
    println!(
        "{n_refused} of {COPIES} damaged copies refused by the static checks; {} loaded in a child",
        to_load.len()
    );
    for (v, n) in &refused {
        println!("  {v}: {n}");
    }

    let exe = std::env::current_exe().expect("test binary");
    let mut failures = Vec::new();
    let mut refused_at_load = 0;
    let mut pending = to_load.into_iter();
    let mut running: Vec<Running> = Vec::new();
    loop {
        while running.len() < PARALLEL {
            let Some((index, what, path)) = pending.next() else {
                break;
            };
            let child = Command::new(&exe)
                .args([TEST_NAME, "--exact", "--nocapture", "--test-threads", "1"])
                .env(CHILD_ENV, &path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn the child");
            running.push(Running {
                index,
                what,
                child,
                started: Instant::now(),
            });
        }
        if running.is_empty() {
            break;
        }
        let mut k = 0;
        while k < running.len() {
            let r = &mut running[k];
            let status = r.child.try_wait().expect("wait for the child");
            let over = r.started.elapsed() > CHILD_LIMIT;
            if status.is_none() && !over {
                k += 1;
                continue;
            }
            let mut r = running.swap_remove(k);
            if status.is_none() {
                let _ = r.child.kill();
            }
            let out = r.child.wait_with_output().expect("child output");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if status.is_none() {
                failures.push(format!(
                    "copy {} ({}): still running after {CHILD_LIMIT:?}, killed\n{stdout}{stderr}",
                    r.index, r.what
                ));
            } else if !out.status.success() || !stdout.contains("CHILD ") {
                failures.push(format!(
                    "copy {} ({}): the loading process ended with {:?}\n{stdout}{stderr}",
                    r.index, r.what, out.status
                ));
            } else if stdout.contains("CHILD refused") {
                refused_at_load += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("{refused_at_load} of the loaded copies were refused by dlopen or the entry-point checks");
    assert!(
        failures.is_empty(),
        "{} damaged copies crashed or hung the loading process:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        n_refused * 2 >= COPIES,
        "the static checks refuse most damaged copies ({n_refused})"
    );
}

/// A relocated code pointer moved into the middle of a function (the damage that sent a loading
/// process into the middle of `ssdlet_sdk::private::metadata` through the GOT) is refused: the
/// module's unwind tables say where its functions lie. Every tenth relative relocation in
/// `.rela.dyn` that points into code, outside the init and fini arrays (whose crt functions
/// the tables do not describe) and not to a one-byte function, is moved one byte on. (x86-64
/// relocation types.)
#[cfg(target_arch = "x86_64")]
#[test]
fn a_code_pointer_into_the_middle_of_a_function_is_refused() {
    use goblin::elf::reloc::R_X86_64_RELATIVE;
    let orig = std::fs::read(common::modules().testkit()).expect("testkit built");
    let elf = goblin::elf::Elf::parse(&orig).expect("the pristine module parses");
    let in_code = |addr: u64| {
        elf.program_headers.iter().any(|ph| {
            ph.p_type == goblin::elf::program_header::PT_LOAD
                && ph.is_executable()
                && (ph.p_vaddr..ph.p_vaddr + ph.p_memsz).contains(&addr)
        })
    };
    let crt_arrays: Vec<std::ops::Range<u64>> = elf
        .section_headers
        .iter()
        .filter(|sh| {
            [".init_array", ".fini_array"].contains(&elf.shdr_strtab.get_at(sh.sh_name).unwrap_or_default())
        })
        .map(|sh| sh.sh_addr..sh.sh_addr + sh.sh_size)
        .collect();
    // A one-byte function (an empty `drop`) is followed by another: one byte on is a start.
    let starts: std::collections::HashSet<u64> = elf
        .syms
        .iter()
        .filter(|s| s.st_type() == goblin::elf::sym::STT_FUNC)
        .map(|s| s.st_value)
        .collect();
    let (rela_at, _) = *layout(&orig).sections.get(".rela.dyn").expect(".rela.dyn");
    let mut tried = 0;
    for (k, r) in elf.dynrelas.iter().enumerate() {
        let Some(addend) = r.r_addend.map(|a| a as u64) else {
            continue;
        };
        if r.r_type != R_X86_64_RELATIVE
            || !in_code(addend)
            || crt_arrays.iter().any(|a| a.contains(&r.r_offset))
            || starts.contains(&(addend + 1))
        {
            continue;
        }
        // Every tenth, to keep the test short.
        tried += 1;
        if tried % 10 != 1 {
            continue;
        }
        let mut bytes = orig.clone();
        wr(&mut bytes, rela_at + 24 * k + 16, 8, addend + 1);
        match inspect_bytes(Path::new("moved.so"), &bytes) {
            Err(LoadError::BadRelocation { index, reason, .. }) => {
                assert_eq!(index, k as u64);
                assert!(reason.contains("inside a function"), "{reason}");
            }
            other => panic!(
                "relocation {k}, moved from {addend:#x} to {:#x}: {}",
                addend + 1,
                other.map_or_else(|e| e.to_string(), |_| "accepted".into())
            ),
        }
    }
    assert!(tried > 100, "the module relocates many code pointers: {tried}");
}
