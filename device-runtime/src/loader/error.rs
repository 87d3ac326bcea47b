//! [`LoadError`]: every reason the loader (and `ndp inspect`) refuses a module.

use std::path::PathBuf;

/// Why a module was refused. Each variant's message names the file and what was expected.
/// The process that saw the error keeps working: nothing of the module was run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read module {}: {source}", path.display())]
    Io {
        /// The module path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file does not start with the ELF magic.
    #[error("{} is not an ELF file (it starts with {found:02x?}, expected 7f 45 4c 46)", path.display())]
    NotElf {
        /// The module path.
        path: PathBuf,
        /// Its first bytes (up to 4).
        found: Vec<u8>,
    },
    /// The ELF file ends before a structure its header points to.
    #[error("{} is a truncated ELF file: its {what} end at byte {needed} but the file has only {len} bytes", path.display())]
    TruncatedElf {
        /// The module path.
        path: PathBuf,
        /// The structure that is cut off.
        what: &'static str,
        /// Where that structure ends.
        needed: u64,
        /// The file length.
        len: u64,
    },
    /// The ELF structures are inconsistent.
    #[error("{} is a malformed ELF file: {reason}", path.display())]
    MalformedElf {
        /// The module path.
        path: PathBuf,
        /// What the ELF parser objected to.
        reason: String,
    },
    /// A segment (program header) extends past the end of the file.
    #[error("{} is a damaged ELF file: segment {index} ({kind}) ends at byte {end} past the file's {len} bytes", path.display())]
    SegmentPastEnd {
        /// The module path.
        path: PathBuf,
        /// The program header's index.
        index: usize,
        /// Its type (`PT_LOAD`, ...).
        kind: &'static str,
        /// Where it ends in the file (`p_offset + p_filesz`; past `u64` if that overflows).
        end: u128,
        /// The file length.
        len: u64,
    },
    /// A segment has less memory than file contents.
    #[error("{} is a damaged ELF file: segment {index} ({kind}) has p_memsz {memsz:#x} < p_filesz {filesz:#x}", path.display())]
    MemszBelowFilesz {
        /// The module path.
        path: PathBuf,
        /// The program header's index.
        index: usize,
        /// Its type.
        kind: &'static str,
        /// Its `p_memsz`.
        memsz: u64,
        /// Its `p_filesz`.
        filesz: u64,
    },
    /// A program header is inconsistent (type, flags, alignment, overlap, placement).
    #[error("{} is a damaged ELF file: segment {index} ({kind}) {reason}", path.display())]
    BadSegment {
        /// The module path.
        path: PathBuf,
        /// The program header's index.
        index: usize,
        /// Its type.
        kind: &'static str,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// An allocated section is not where the segments map it.
    #[error("{} is a damaged ELF file: section {index} (`{name}`) {reason}", path.display())]
    BadSection {
        /// The module path.
        path: PathBuf,
        /// The section header's index.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A dynamic-section entry (or the table it points to) is missing or inconsistent.
    #[error("{} is a damaged ELF file: dynamic entry {tag} {reason}", path.display())]
    BadDynamic {
        /// The module path.
        path: PathBuf,
        /// The entry's tag name (`DT_STRTAB`, ...).
        tag: &'static str,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A dynamic symbol is out of range.
    #[error("{} is a damaged ELF file: dynamic symbol {index} (`{name}`) {reason}", path.display())]
    BadSymbol {
        /// The module path.
        path: PathBuf,
        /// The symbol's index.
        index: u64,
        /// Its name (empty if unreadable).
        name: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A relocation has an unsupported type or writes or points outside where it may.
    #[error("{} is a damaged ELF file: relocation {index} of {table} {reason}", path.display())]
    BadRelocation {
        /// The module path.
        path: PathBuf,
        /// The table (`DT_RELA`, `DT_JMPREL`).
        table: &'static str,
        /// The relocation's index in it.
        index: u64,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// The symbol-version tables are inconsistent.
    #[error("{} is a damaged ELF file: its symbol versions are inconsistent: {reason}", path.display())]
    BadVersions {
        /// The module path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An entry point is missing from the dynamic symbols or not where it should be.
    #[error("{} has no valid entry point `{symbol}`: {reason}", path.display())]
    BadEntryPoint {
        /// The module path.
        path: PathBuf,
        /// The symbol.
        symbol: &'static str,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// Not a 64-bit little-endian ELF.
    #[error("{} is a {found} ELF file, expected 64-bit little-endian", path.display())]
    WrongClass {
        /// The module path.
        path: PathBuf,
        /// What it is.
        found: String,
    },
    /// Built for another CPU architecture.
    #[error("{} is built for the {found} architecture (ELF machine {machine}), but this runtime loads {expected} modules", path.display())]
    WrongMachine {
        /// The module path.
        path: PathBuf,
        /// Name of the module's machine.
        found: &'static str,
        /// The module's `e_machine` value.
        machine: u16,
        /// Name of the runtime's machine.
        expected: &'static str,
    },
    /// Not a shared object.
    #[error("{} is not a shared object (ELF type {found}, expected a cdylib: ET_DYN)", path.display())]
    NotSharedObject {
        /// The module path.
        path: PathBuf,
        /// Its `e_type`.
        found: u16,
    },
    /// No `.ssdlet_meta` section.
    #[error("{} has no SSDlet metadata (no `.ssdlet_meta` section); is it a module built with ssdlet_sdk::register_module!?", path.display())]
    NoMetadata {
        /// The module path.
        path: PathBuf,
    },
    /// The metadata section is damaged or does not follow the format.
    #[error("{} has corrupt SSDlet metadata: {reason}", path.display())]
    CorruptMetadata {
        /// The module path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Built against another module ABI version.
    #[error("{} was built for module ABI version {found}, but this runtime speaks version {expected}; rebuild it against this SDK", path.display())]
    AbiMismatch {
        /// The module path.
        path: PathBuf,
        /// The module's version.
        found: u32,
        /// The runtime's version.
        expected: u32,
    },
    /// Imports symbols on the deny-list (see [`crate::loader::imports`]).
    #[error("{} imports {list}; SSDlets reach storage and the world only through the runtime", path.display())]
    ForbiddenImport {
        /// The module path.
        path: PathBuf,
        /// The denied symbols it imports, sorted.
        symbols: Vec<String>,
        /// The symbols with the reason each is denied, for the message.
        list: String,
    },
    /// The host asked for an SSDlet id the module does not have.
    #[error("module `{module}` has no SSDlet `{id}` (it has: {known})")]
    UnknownSsdlet {
        /// The module name.
        module: String,
        /// The requested id.
        id: String,
        /// The ids it has, comma-separated.
        known: String,
    },
    /// The module could not be staged for loading.
    #[error("cannot stage {} for loading at {}: {source}", path.display(), staged.display())]
    Staging {
        /// The module path.
        path: PathBuf,
        /// The staging path.
        staged: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The dynamic loader refused the module.
    #[error("dlopen of {} failed: {reason}", path.display())]
    Dlopen {
        /// The module path.
        path: PathBuf,
        /// The dynamic loader's message.
        reason: String,
    },
    /// A required entry point is not exported.
    #[error("{} does not export the entry point `{symbol}`: {reason}", path.display())]
    MissingEntryPoint {
        /// The module path.
        path: PathBuf,
        /// The symbol.
        symbol: &'static str,
        /// The dynamic loader's message.
        reason: String,
    },
    /// The metadata the loaded module reports differs from its section.
    #[error("{} reports different metadata at run time than in its `.ssdlet_meta` section", path.display())]
    MetadataMismatch {
        /// The module path.
        path: PathBuf,
    },
    /// `ssdlet_module_init` failed.
    #[error("{} refused to initialise: {status}", path.display())]
    InitFailed {
        /// The module path.
        path: PathBuf,
        /// The status name it returned.
        status: &'static str,
    },
}
