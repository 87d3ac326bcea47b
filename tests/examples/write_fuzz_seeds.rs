//! Writes the seed inputs of `tests::fuzz_support::seeds` into the fuzz corpora
//! (`fuzz/corpus/<target>/seed-<name>`), before fuzzing:
//! `cargo run -p tests --example write_fuzz_seeds`.

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut n = 0;
    for (target, name, bytes) in tests::fuzz_support::seeds() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{name}")), bytes)?;
        n += 1;
    }
    println!("wrote {n} seed files under {}", root.display());
    Ok(())
}
