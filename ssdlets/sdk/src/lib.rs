//! The SSDlet SDK: what module authors depend on.
//!
//! An SSDlet reads like Biscuit's Mapper: a straight-line loop over typed ports. `get` and
//! `put` suspend the SSDlet's fiber (not the core) while an input is empty or an output full.
//!
//! ```no_run
//! use ssdlet_sdk::{Context, File, FileStream, Output, Ssdlet, SsdletError};
//!
//! /// Splits the lines of a file into words and sends `(word, 1)` for each.
//! pub struct Mapper;
//!
//! impl Ssdlet for Mapper {
//!     type Args = (File,);
//!     type Inputs = ();
//!     type Outputs = (Output<(String, u32)>,);
//!     const ARG_NAMES: &'static [&'static str] = &["file"];
//!     const OUTPUT_NAMES: &'static [&'static str] = &["words"];
//!
//!     fn run(_: &Context, (file,): (File,), (): (), (mut out,): Self::Outputs) -> Result<(), SsdletError> {
//!         let mut stream = FileStream::new(file);
//!         let mut line = Vec::new();
//!         while stream.next_line(&mut line)? {
//!             for word in line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
//!                 let word = String::from_utf8_lossy(word).into_owned();
//!                 if out.put((word, 1)).is_err() {
//!                     return Ok(()); // the receiver is gone
//!                 }
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! ssdlet_sdk::register_module! {
//!     name: "wordcount",
//!     ssdlets: { "idMapper" => Mapper },
//! }
//! ```
//!
//! A module crate is a `cdylib` that calls [`register_module!`] once. The macro exports the
//! entry points of [`ssdlet_abi::entry`], installs [`RuntimeAllocator`] as the module's global
//! allocator (so the runtime accounts every byte against the device DRAM budget), and emits
//! the metadata section the loader reads before `dlopen` (ids, argument types, port names and
//! message-type signatures). Panics never leave the module: they become an error naming the
//! SSDlet and the panic message. This crate never depends on `device-runtime` or `host-sdk`
//! (INVARIANT(sdk-no-runtime)): only on `ssdlet-abi`, `serde` and `postcard`.

mod alloc;
mod args;
mod bytes;
mod context;
mod error;
mod file;
mod message;
mod ports;
#[doc(hidden)]
pub mod private;
mod rt;

pub use alloc::RuntimeAllocator;
pub use args::{Arg, ArgList};
pub use bytes::Bytes;
pub use context::Context;
pub use error::SsdletError;
pub use file::{File, FileStream};
pub use message::Message;
pub use ports::{Closed, Input, InputList, Output, OutputList, RecvError, OWNED_THRESHOLD};
#[doc(hidden)]
pub use rt::Rt;
pub use ssdlet_abi as abi;
pub use ssdlet_abi::sig::TypeSig;
pub use ssdlet_abi::{LogLevel, MatcherLimits, ABI_VERSION};

/// An SSDlet: a unit of computation with arguments, input ports and output ports, registered
/// under an id in its module with [`register_module!`].
///
/// Names are checked at compile time: each name list must be as long as its tuple, names must
/// be plain identifiers (letters, digits, `_`, `-`, `.`, `:`).
pub trait Ssdlet {
    /// Argument tuple, e.g. `(File, u64)`; `()` for none.
    type Args: ArgList;
    /// Input ports, e.g. `(Input<u64>,)`; `()` for none.
    type Inputs: InputList;
    /// Output ports, e.g. `(Output<(String, u32)>,)`; `()` for none.
    type Outputs: OutputList;
    /// Argument names, in order. Default: none.
    const ARG_NAMES: &'static [&'static str] = &[];
    /// Input port names, in index order. Default: none.
    const INPUT_NAMES: &'static [&'static str] = &[];
    /// Output port names, in index order. Default: none.
    const OUTPUT_NAMES: &'static [&'static str] = &[];

    /// Runs the SSDlet to completion. Returning (or dropping a port) closes its ports.
    fn run(
        ctx: &Context,
        args: Self::Args,
        inputs: Self::Inputs,
        outputs: Self::Outputs,
    ) -> Result<(), SsdletError>;
}

/// Renders a signature as a `String` (for messages).
pub fn sig_string(sig: &TypeSig) -> String {
    let mut buf = vec![0u8; sig.rendered_len()];
    sig.render_into(&mut buf).to_owned()
}

fn sig_list_string(sigs: &[TypeSig]) -> String {
    let parts: Vec<String> = sigs.iter().map(sig_string).collect();
    format!("({})", parts.join(","))
}

/// Registers a module's SSDlets under their ids and emits its entry points, global allocator
/// and metadata section. Call it once, in the module's `cdylib` crate root.
///
/// ```text
/// ssdlet_sdk::register_module! {
///     name: "wordcount",
///     ssdlets: { "idMapper" => Mapper, "idReducer" => Reducer },
/// }
/// ```
///
/// The SSDlet index passed to `ssdlet_run` is the position in this list.
#[macro_export]
macro_rules! register_module {
    (name: $name:literal, ssdlets: { $($id:literal => $ty:ty),+ $(,)? } $(,)?) => {
        #[global_allocator]
        static __SSDLET_ALLOCATOR: $crate::RuntimeAllocator = $crate::RuntimeAllocator;

        const __SSDLET_MODULE: $crate::abi::meta::ModuleDesc = $crate::abi::meta::ModuleDesc {
            name: $name,
            version: ::core::env!("CARGO_PKG_VERSION"),
            ssdlets: &[$($crate::private::describe::<$ty>($id)),+],
        };
        const __SSDLET_META_LEN: usize = $crate::abi::meta::encoded_len(&__SSDLET_MODULE);

        /// The module metadata, read by the loader before `dlopen`.
        #[unsafe(link_section = ".ssdlet_meta")]
        #[used]
        static __SSDLET_META: [u8; __SSDLET_META_LEN] =
            $crate::abi::meta::encode::<__SSDLET_META_LEN>(&__SSDLET_MODULE, $crate::abi::ABI_VERSION);

        /// Entry point: the metadata bytes (also keeps the section alive through linker GC).
        ///
        /// # Safety
        /// See `ssdlet_abi::entry::MetadataFn`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn ssdlet_metadata(out_len: *mut usize) -> *const u8 {
            // SAFETY: the runtime upholds MetadataFn's contract, which metadata requires.
            unsafe { $crate::private::metadata(&__SSDLET_META, out_len) }
        }

        /// Entry point: called once after loading.
        ///
        /// # Safety
        /// See `ssdlet_abi::entry::ModuleInitFn`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn ssdlet_module_init(vt: *const $crate::abi::RuntimeVtable) -> $crate::abi::Status {
            // SAFETY: the runtime upholds ModuleInitFn's contract, which module_init requires.
            unsafe { $crate::private::module_init(vt) }
        }

        /// Entry point: runs one SSDlet instance to completion.
        ///
        /// # Safety
        /// See `ssdlet_abi::entry::RunFn`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn ssdlet_run(
            vt: *const $crate::abi::RuntimeVtable,
            ctx: *mut $crate::abi::InstanceCtx,
            index: u32,
            args: *const u8,
            args_len: usize,
        ) -> $crate::abi::Status {
            const ENTRIES: &[$crate::private::Entry] = &[$($crate::private::Entry {
                id: $id,
                run: $crate::private::run_ssdlet::<$ty>,
            }),+];
            // SAFETY: the runtime upholds RunFn's contract, which run_entry requires.
            unsafe { $crate::private::run_entry(vt, ctx, index, args, args_len, ENTRIES) }
        }
    };
}

// Added after the rest, at the end: a line moved above the macros would move their code's
// locations, and so every module's bytes (see `bytes.rs`).
pub use ports::{BATCH_BYTES, BATCH_MESSAGES};
