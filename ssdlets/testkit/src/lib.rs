//! Test SSDlets: small, deliberate behaviours the runtime's tests and benches drive.
//!
//! | id | args | inputs | outputs | does |
//! |---|---|---|---|---|
//! | `echo` | | `in: u64` | `out: u64` | forwards every message |
//! | `sum` | | `in: u64` | `total: u64` | sums its input, sends the total at the end |
//! | `count` | `n: u64` | | `out: u64` | sends `0..n` |
//! | `ping` | `n: u64` | `pong: u64` | `ping: u64` | sends `i`, waits for `i` back, `n` times |
//! | `words` | `file: file` | | `words: WordCount` | sends each word of the file with count 1 |
//! | `grep` | `file: file`, `key: str` | | `pages: u64` | pages containing `key` (matcher + confirm) |
//! | `panicking` | `msg: str` | | | panics with `msg` |
//! | `failing` | `msg: str` | | | returns an error with `msg` |
//! | `alloc_hog` | `chunk: u64` | | | allocates `chunk` bytes per step, forever |
//! | `endless` | | | | yields forever |
//! | `recurse` | `depth: u64` | | `out: u64` | recurses `depth` frames of 1 KiB |
//! | `scan` | `file: file` | | `bytes: u64` | reads the file with a `FileStream`, sends its length |
//! | `blobs` | `n: u64`, `size: u64` | | `out: seq<u8>` (`Bytes`) | sends `n` byte vectors of `size` bytes (`i` repeated) |
//! | `blob_sum` | | `in: seq<u8>` (`Bytes`) | `total: u64` | sums the bytes of vectors of one repeated byte, sends the total |
//! | `blocks` | `n: u64`, `size: u64` | | `out: seq<u8>` (`Bytes`) | as `blobs`, each vector handed over as it is (`put_bytes`) |
//! | `block_sum` | | `in: seq<u8>` (`Bytes`) | `total: u64` | as `blob_sum`, taking each vector as it is (`get_bytes`); sends the total, then the count of vectors |
//! | `vec_sum` | | `in: seq<u8>` (`Vec<u8>`) | `total: u64` | as `blob_sum`, decoding each message as a `Vec<u8>` |
//! | `count_all` | `n: u64` | | `out: u64` | sends `0..n` with one `put_all` |
//! | `sum_batch` | `max: u64` | `in: u64` | `total: u64` | as `sum`, taking up to `max` messages a call (`get_batch`) |
//! | `mixed` | `n: u64`, `size: u64`, `batch: u64` | | `out: seq<u8>` (`Bytes`) | sends `n` vectors of `i` repeated, `size` bytes long where `i % 7 == 3`, else `i % 40`; one `put` each, or with `batch` not 0 one `put_all` |
//! | `mixed_sum` | `max: u64`, `stop: u64` | `in: seq<u8>` (`Bytes`) | `total: u64` | sums the bytes, then sends the total, the count of vectors and a digest of their order; one `get` each, or with `max` not 0 up to `max` a call (`get_batch`); with `stop` not 0, closes its input after at least `stop` vectors |
//! | `block_then_wait` | `size: u64` | `go: u64` | `out: seq<u8>` (`Bytes`) | sends a vector of `size` bytes, then one of 3, then waits for `go` before it ends |
//! | `crash` | | | | aborts the process |
//! | `spin` | | | | spins without yielding |
//! | `escape` | | | | probes system calls `ndp serve`'s firmware filter refuses; fails with what each got |
//! | `scaled` | `words: seq<WordCount>`, `factor: u32` | | `out: WordCount` | sends each word with its count times `factor` (a message-typed argument) |

use ssdlet_sdk::{Bytes, Context, File, FileStream, Input, Output, Ssdlet, SsdletError};
use ssdlet_testkit_types::WordCount;

/// Forwards every message from `in` to `out`.
pub struct Echo;
impl Ssdlet for Echo {
    type Args = ();
    type Inputs = (Input<u64>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        while let Some(v) = input.get() {
            if out.put(v).is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// Sums its input and sends the total once the input is closed.
pub struct Sum;
impl Ssdlet for Sum {
    type Args = ();
    type Inputs = (Input<u64>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let total = input.iter().fold(0u64, u64::wrapping_add);
        out.put(total)?;
        Ok(())
    }
}

/// Sends `0..n`.
pub struct Count;
impl Ssdlet for Count {
    type Args = (u64,);
    type Inputs = ();
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["n"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(_: &Context, (n,): (u64,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        for i in 0..n {
            out.put(i)?;
        }
        Ok(())
    }
}

/// Ping-pong: sends `i` on `ping` and waits for `i` back on `pong`, `n` times.
pub struct Ping;
impl Ssdlet for Ping {
    type Args = (u64,);
    type Inputs = (Input<u64>,);
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["n"];
    const INPUT_NAMES: &'static [&'static str] = &["pong"];
    const OUTPUT_NAMES: &'static [&'static str] = &["ping"];
    fn run(
        _: &Context,
        (n,): (u64,),
        (mut pong,): Self::Inputs,
        (mut ping,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        for i in 0..n {
            ping.put(i)?;
            match pong.get() {
                Some(v) if v == i => {}
                Some(v) => return Err(SsdletError::msg(format!("sent {i} but got {v} back"))),
                None => return Err(SsdletError::msg(format!("pong closed after {i} round trips"))),
            }
        }
        Ok(())
    }
}

/// Sends every whitespace-separated word of `file` as `WordCount { word, count: 1 }`.
pub struct Words;
impl Ssdlet for Words {
    type Args = (File,);
    type Inputs = ();
    type Outputs = (Output<WordCount>,);
    const ARG_NAMES: &'static [&'static str] = &["file"];
    const OUTPUT_NAMES: &'static [&'static str] = &["words"];
    fn run(_: &Context, (file,): (File,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        let mut stream = FileStream::with_capacity(file, 4096);
        let mut line = Vec::new();
        while stream.next_line(&mut line)? {
            for w in line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
                let word = String::from_utf8_lossy(w).into_owned();
                if out.put(WordCount { word, count: 1 }).is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Sends the numbers of the pages of `file` that contain `key`: the matcher hints which
/// pages may, a software check confirms them.
pub struct Grep;
impl Ssdlet for Grep {
    type Args = (File, String);
    type Inputs = ();
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["file", "key"];
    const OUTPUT_NAMES: &'static [&'static str] = &["pages"];
    fn run(
        ctx: &Context,
        (file, key): (File, String),
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let page = u64::from(ctx.matcher_limits()?.page_size);
        let pages = file.len()?.div_ceil(page);
        let hints = file.scan_pages(&[key.as_bytes()], 0..pages)?;
        let mut buf = vec![0u8; page as usize + key.len()];
        for (p, hint) in hints.into_iter().enumerate() {
            if !hint {
                continue;
            }
            // Read the page plus a key-length tail so matches across the boundary count for
            // the page they start in, as the matcher's do.
            let n = file.read_at(p as u64 * page, &mut buf)?;
            let hay = &buf[..n];
            let starts = hay.windows(key.len().max(1)).position(|w| w == key.as_bytes());
            if starts.is_some_and(|s| (s as u64) < page) {
                out.put(p as u64)?;
            }
        }
        Ok(())
    }
}

/// Panics with its argument.
pub struct Panicking;
impl Ssdlet for Panicking {
    type Args = (String,);
    type Inputs = ();
    type Outputs = ();
    const ARG_NAMES: &'static [&'static str] = &["msg"];
    fn run(ctx: &Context, (msg,): (String,), (): (), (): ()) -> Result<(), SsdletError> {
        ctx.info("about to panic");
        panic!("{msg}");
    }
}

/// Returns an error with its argument.
pub struct Failing;
impl Ssdlet for Failing {
    type Args = (String,);
    type Inputs = ();
    type Outputs = ();
    const ARG_NAMES: &'static [&'static str] = &["msg"];
    fn run(_: &Context, (msg,): (String,), (): (), (): ()) -> Result<(), SsdletError> {
        Err(SsdletError::msg(msg))
    }
}

/// Allocates `chunk` bytes per step and keeps them, yielding between steps, forever.
pub struct AllocHog;
impl Ssdlet for AllocHog {
    type Args = (u64,);
    type Inputs = ();
    type Outputs = ();
    const ARG_NAMES: &'static [&'static str] = &["chunk"];
    fn run(ctx: &Context, (chunk,): (u64,), (): (), (): ()) -> Result<(), SsdletError> {
        let chunk = usize::try_from(chunk.max(1)).map_err(|_| SsdletError::msg("chunk too large"))?;
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xA5; chunk]);
            ctx.yield_now();
        }
    }
}

/// Aborts the whole process: a module that crashes the device firmware (for `ndp serve`'s
/// supervision tests).
pub struct Crash;
impl Ssdlet for Crash {
    type Args = ();
    type Inputs = ();
    type Outputs = ();
    fn run(_: &Context, (): (), (): (), (): ()) -> Result<(), SsdletError> {
        std::process::abort()
    }
}

/// Spins forever without yielding: a module that hangs the device firmware (no cooperative
/// scheduler can take the core back).
pub struct Spin;
impl Ssdlet for Spin {
    type Args = ();
    type Inputs = ();
    type Outputs = ();
    fn run(_: &Context, (): (), (): (), (): ()) -> Result<(), SsdletError> {
        loop {
            std::hint::spin_loop();
        }
    }
}

/// What one probe of [`Escape`] got: `ok`, or the error number and its text.
fn probe_result(r: libc::c_long) -> String {
    if r >= 0 {
        "ok".to_owned()
    } else {
        std::io::Error::last_os_error().to_string()
    }
}

/// Tries, through raw system calls (the import lint allows `syscall`), what `ndp serve`'s
/// firmware filter refuses, each in a harmless form: `execve` of a missing program (`ENOENT`
/// when allowed), `clone` with invalid flags (`EINVAL`), an `AF_INET` socket (closed at once),
/// signal 0 to the parent, `ptrace` of a missing pid (`ESRCH`). Always fails, with what each
/// probe got, so a test reads it from the error.
pub struct Escape;
impl Ssdlet for Escape {
    type Args = ();
    type Inputs = ();
    type Outputs = ();
    fn run(_: &Context, (): (), (): (), (): ()) -> Result<(), SsdletError> {
        let program = c"/nonexistent/ndp-escape-probe";
        let argv = [program.as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null::<libc::c_char>()];
        // SAFETY: execve with a valid NUL-terminated path and NULL-terminated argv/envp; the
        // path does not exist, so it returns instead of replacing the process.
        let execve =
            unsafe { libc::syscall(libc::SYS_execve, program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        let execve = probe_result(execve);
        // SAFETY: clone with CLONE_SIGHAND but not CLONE_VM is invalid (EINVAL), so no process
        // or thread is created.
        let clone =
            unsafe { libc::syscall(libc::SYS_clone, libc::CLONE_SIGHAND as libc::c_ulong, 0, 0, 0, 0) };
        let clone = probe_result(clone);
        // SAFETY: socket(2) takes no pointers; a descriptor it returns is closed at once.
        let fd = unsafe { libc::syscall(libc::SYS_socket, libc::AF_INET, libc::SOCK_STREAM, 0) };
        let socket = probe_result(fd);
        if fd >= 0 {
            // SAFETY: closes the descriptor socket(2) just returned, owned by nobody else.
            unsafe { libc::close(fd as libc::c_int) };
        }
        // SAFETY: signal 0 only checks permission; getppid has no arguments.
        let kill = probe_result(unsafe { libc::syscall(libc::SYS_kill, libc::getppid(), 0) });
        // SAFETY: PTRACE_ATTACH to a pid that cannot exist (above the kernel's limit) fails.
        let ptrace =
            probe_result(unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_ATTACH, 0x3fff_ffff, 0, 0) });
        Err(SsdletError::msg(format!(
            "escape probes: execve: {execve}; clone: {clone}; socket(AF_INET): {socket}; kill(parent): {kill}; ptrace: {ptrace}"
        )))
    }
}

/// Yields forever.
pub struct Endless;
impl Ssdlet for Endless {
    type Args = ();
    type Inputs = ();
    type Outputs = ();
    fn run(ctx: &Context, (): (), (): (), (): ()) -> Result<(), SsdletError> {
        loop {
            ctx.yield_now();
        }
    }
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 1024];
    frame[(depth % 1024) as usize] = 1;
    let frame = std::hint::black_box(frame);
    if depth == 0 {
        return u64::from(frame[0]);
    }
    recurse(depth - 1).wrapping_add(u64::from(frame[(depth % 1024) as usize]))
}

/// Recurses `depth` frames of about 1 KiB each, then sends `depth`.
pub struct Recurse;
impl Ssdlet for Recurse {
    type Args = (u64,);
    type Inputs = ();
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["depth"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(_: &Context, (depth,): (u64,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        out.put(recurse(depth))?;
        Ok(())
    }
}

/// Reads the whole file sequentially through a `FileStream` and sends the bytes it read.
pub struct Scan;
impl Ssdlet for Scan {
    type Args = (File,);
    type Inputs = ();
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["file"];
    const OUTPUT_NAMES: &'static [&'static str] = &["bytes"];
    fn run(_: &Context, (file,): (File,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        use std::io::BufRead;
        let mut stream = FileStream::new(file);
        let mut total = 0u64;
        loop {
            let n = stream.fill_buf()?.len();
            if n == 0 {
                break;
            }
            total += n as u64;
            stream.consume(n);
        }
        out.put(total)?;
        Ok(())
    }
}

/// Sends `n` byte vectors of `size` bytes, the `i`th filled with `i as u8`.
pub struct Blobs;
impl Ssdlet for Blobs {
    type Args = (u64, u64);
    type Inputs = ();
    type Outputs = (Output<Bytes>,);
    const ARG_NAMES: &'static [&'static str] = &["n", "size"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(_: &Context, (n, size): (u64, u64), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        for i in 0..n {
            out.put(Bytes(vec![i as u8; size as usize]))?;
        }
        Ok(())
    }
}

/// Sums every byte it receives (each vector holds one repeated byte: it reads the first);
/// sends the total at the end.
pub struct BlobSum;
impl Ssdlet for BlobSum {
    type Args = ();
    type Inputs = (Input<Bytes>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let mut total = 0u64;
        while let Some(v) = input.get() {
            total += v.first().map_or(0, |&b| u64::from(b) * v.len() as u64);
        }
        out.put(total)?;
        Ok(())
    }
}

/// Sends `n` byte vectors of `size` bytes (`i` repeated), each handed over as it is
/// (`Output::put_bytes`).
pub struct Blocks;
impl Ssdlet for Blocks {
    type Args = (u64, u64);
    type Inputs = ();
    type Outputs = (Output<Bytes>,);
    const ARG_NAMES: &'static [&'static str] = &["n", "size"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(_: &Context, (n, size): (u64, u64), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        for i in 0..n {
            out.put_bytes(vec![i as u8; size as usize])?;
        }
        Ok(())
    }
}

/// Sums the bytes of vectors of one repeated byte taken as blocks (`Input::get_bytes`), as
/// `blob_sum` does; sends the total and the count of vectors at the end.
pub struct BlockSum;
impl Ssdlet for BlockSum {
    type Args = ();
    type Inputs = (Input<Bytes>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let (mut total, mut count) = (0u64, 0u64);
        while let Some(v) = input.get_bytes() {
            total += v.first().map_or(0, |&b| u64::from(b) * v.len() as u64);
            count += 1;
        }
        out.put(total)?;
        out.put(count)?;
        Ok(())
    }
}

/// As `blob_sum`, reading each message as a `Vec<u8>` (decoded byte by byte).
pub struct VecSum;
impl Ssdlet for VecSum {
    type Args = ();
    type Inputs = (Input<Vec<u8>>,);
    type Outputs = (Output<u64>,);
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (): (),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let mut total = 0u64;
        while let Some(v) = input.get() {
            total += v.first().map_or(0, |&b| u64::from(b) * v.len() as u64);
        }
        out.put(total)?;
        Ok(())
    }
}

/// Sends each of its `words` with the count times `factor`: an argument of a message type.
pub struct Scaled;
impl Ssdlet for Scaled {
    type Args = (Vec<WordCount>, u32);
    type Inputs = ();
    type Outputs = (Output<WordCount>,);
    const ARG_NAMES: &'static [&'static str] = &["words", "factor"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(
        _: &Context,
        (words, factor): (Vec<WordCount>, u32),
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        for w in words {
            let count = w.count.saturating_mul(factor);
            out.put(WordCount { count, ..w })?;
        }
        Ok(())
    }
}

/// Sends `0..n` with one [`Output::put_all`].
pub struct CountAll;
impl Ssdlet for CountAll {
    type Args = (u64,);
    type Inputs = ();
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["n"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(_: &Context, (n,): (u64,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
        out.put_all(0..n)?;
        Ok(())
    }
}

/// Sums its input taking up to `max` messages a call ([`Input::get_batch`]); sends the total.
pub struct SumBatch;
impl Ssdlet for SumBatch {
    type Args = (u64,);
    type Inputs = (Input<u64>,);
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["max"];
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (max,): (u64,),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let mut batch = Vec::with_capacity(max as usize);
        let mut total = 0u64;
        while input.get_batch(&mut batch, max as usize) > 0 {
            total = batch.drain(..).fold(total, u64::wrapping_add);
        }
        out.put(total)?;
        Ok(())
    }
}

/// Vectors of many sizes: `n` vectors of `i` repeated, `size` bytes long where `i % 7 == 3`,
/// else `i % 40`; one put each or, with `batch` not 0, one [`Output::put_all`].
pub struct Mixed;
impl Ssdlet for Mixed {
    type Args = (u64, u64, u64);
    type Inputs = ();
    type Outputs = (Output<Bytes>,);
    const ARG_NAMES: &'static [&'static str] = &["n", "size", "batch"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(
        _: &Context,
        (n, size, batch): (u64, u64, u64),
        (): (),
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let vector = |i: u64| Bytes(vec![i as u8; if i % 7 == 3 { size } else { i % 40 } as usize]);
        if batch == 0 {
            for i in 0..n {
                out.put(vector(i))?;
            }
        } else {
            out.put_all((0..n).map(vector))?;
        }
        Ok(())
    }
}

/// Sums the bytes of its vectors; sends the total, the count of vectors and a digest of their
/// lengths and bytes in order. One get each or, with `max` not 0, up to `max` a call; with
/// `stop` not 0, closes its input once it has at least `stop` vectors.
pub struct MixedSum;
impl Ssdlet for MixedSum {
    type Args = (u64, u64);
    type Inputs = (Input<Bytes>,);
    type Outputs = (Output<u64>,);
    const ARG_NAMES: &'static [&'static str] = &["max", "stop"];
    const INPUT_NAMES: &'static [&'static str] = &["in"];
    const OUTPUT_NAMES: &'static [&'static str] = &["total"];
    fn run(
        _: &Context,
        (max, stop): (u64, u64),
        (mut input,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let stop = if stop == 0 { u64::MAX } else { stop };
        let (mut total, mut count, mut digest) = (0u64, 0u64, 0u64);
        let mut add = |v: &[u8]| {
            total += v.iter().map(|&b| u64::from(b)).sum::<u64>();
            count += 1;
            let first = v.first().map_or(0, |&b| u64::from(b));
            digest = digest.wrapping_mul(31).wrapping_add(v.len() as u64 * 257 + first);
        };
        let mut seen = 0u64;
        if max == 0 {
            while let Some(v) = input.get() {
                add(&v.0);
                seen += 1;
                if seen >= stop {
                    break;
                }
            }
        } else {
            let mut batch = Vec::new();
            while input.get_batch(&mut batch, max as usize) > 0 {
                seen += batch.len() as u64;
                batch.drain(..).for_each(|v| add(&v.0));
                if seen >= stop {
                    break;
                }
            }
        }
        input.close();
        out.put(total)?;
        out.put(count)?;
        out.put(digest)?;
        Ok(())
    }
}

/// Sends a vector of `size` bytes and one of 3, then waits for a message on `go` (its output
/// stays open meanwhile).
pub struct BlockThenWait;
impl Ssdlet for BlockThenWait {
    type Args = (u64,);
    type Inputs = (Input<u64>,);
    type Outputs = (Output<Bytes>,);
    const ARG_NAMES: &'static [&'static str] = &["size"];
    const INPUT_NAMES: &'static [&'static str] = &["go"];
    const OUTPUT_NAMES: &'static [&'static str] = &["out"];
    fn run(
        _: &Context,
        (size,): (u64,),
        (mut go,): Self::Inputs,
        (mut out,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        out.put(Bytes(vec![1; size as usize]))?;
        out.put(Bytes(vec![2; 3]))?;
        let _ = go.get();
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "testkit",
    ssdlets: {
        "echo" => Echo,
        "sum" => Sum,
        "count" => Count,
        "ping" => Ping,
        "words" => Words,
        "grep" => Grep,
        "panicking" => Panicking,
        "failing" => Failing,
        "alloc_hog" => AllocHog,
        "endless" => Endless,
        "crash" => Crash,
        "spin" => Spin,
        "escape" => Escape,
        "recurse" => Recurse,
        "scan" => Scan,
        "blobs" => Blobs,
        "blob_sum" => BlobSum,
        "blocks" => Blocks,
        "block_sum" => BlockSum,
        "vec_sum" => VecSum,
        "scaled" => Scaled,
        "count_all" => CountAll,
        "sum_batch" => SumBatch,
        "mixed" => Mixed,
        "mixed_sum" => MixedSum,
        "block_then_wait" => BlockThenWait,
    },
}
