//! Static checks of a module file: everything the loader verifies before `dlopen`, and all
//! that `ndp inspect` does. Nothing here runs module code.

use std::path::{Path, PathBuf};

use goblin::elf::section_header::{SHF_ALLOC, SHT_NOBITS};
use goblin::elf::Elf;
use serde::Serialize;
use ssdlet_abi::entry::{SYM_METADATA, SYM_MODULE_INIT, SYM_RUN};
use ssdlet_abi::meta::{read_header, SECTION_NAME};
use ssdlet_abi::ABI_VERSION;

use super::error::LoadError;
use super::imports;
use super::meta::ModuleMeta;
use super::structure::Export;

/// `e_machine` of the architecture this runtime runs on.
#[cfg(target_arch = "x86_64")]
pub const HOST_MACHINE: u16 = goblin::elf::header::EM_X86_64;
/// `e_machine` of the architecture this runtime runs on.
#[cfg(target_arch = "aarch64")]
pub const HOST_MACHINE: u16 = goblin::elf::header::EM_AARCH64;

/// What the static checks found in a module that passed them.
#[derive(Clone, Debug, Serialize)]
pub struct Inspected {
    /// The module file.
    pub path: PathBuf,
    /// Its metadata.
    pub meta: ModuleMeta,
    /// Name of its ELF machine.
    pub machine: &'static str,
    /// Its undefined dynamic symbols (imports), sorted.
    pub imports: Vec<String>,
    /// The raw metadata section bytes (compared with what the loaded module reports).
    #[serde(skip)]
    pub meta_bytes: Vec<u8>,
    /// Built with integer overflow checks, as an unoptimized (debug) build is by default
    /// ([`ndp_protocol::meta::built_with_overflow_checks`]).
    pub overflow_checks: bool,
}

impl Inspected {
    /// What a loader should tell the module's author, one sentence each (nothing stops the
    /// load).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.overflow_checks {
            w.push(ndp_protocol::meta::debug_build_warning(
                &self.meta.name,
                &self.path,
            ));
        }
        w
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Checks the ELF header by hand so each problem gets its own error.
fn check_header(path: &Path, b: &[u8]) -> Result<(), LoadError> {
    let p = || path.to_path_buf();
    let len = b.len() as u64;
    if b.len() < 4 || b[..4] != *b"\x7fELF" {
        return Err(LoadError::NotElf {
            path: p(),
            found: b[..b.len().min(4)].to_vec(),
        });
    }
    if b.len() < 6 {
        return Err(LoadError::TruncatedElf {
            path: p(),
            what: "ELF identification bytes",
            needed: 16,
            len,
        });
    }
    if b[4] != 2 || b[5] != 1 {
        let class = match b[4] {
            1 => "32-bit",
            2 => "64-bit",
            _ => "unknown-class",
        };
        let data = match b[5] {
            1 => "little-endian",
            2 => "big-endian",
            _ => "unknown-endian",
        };
        return Err(LoadError::WrongClass {
            path: p(),
            found: format!("{class} {data}"),
        });
    }
    if b.len() < 64 {
        return Err(LoadError::TruncatedElf {
            path: p(),
            what: "ELF header bytes",
            needed: 64,
            len,
        });
    }
    let machine = u16_at(b, 18);
    if machine != HOST_MACHINE {
        return Err(LoadError::WrongMachine {
            path: p(),
            found: goblin::elf::header::machine_to_str(machine),
            machine,
            expected: goblin::elf::header::machine_to_str(HOST_MACHINE),
        });
    }
    let e_type = u16_at(b, 16);
    if e_type != goblin::elf::header::ET_DYN {
        return Err(LoadError::NotSharedObject {
            path: p(),
            found: e_type,
        });
    }
    let (phentsize, phnum, shentsize, shnum) = (u16_at(b, 54), u16_at(b, 56), u16_at(b, 58), u16_at(b, 60));
    if phentsize != 56 || phnum == 0 || (shnum > 0 && shentsize != 64) {
        return Err(LoadError::MalformedElf {
            path: p(),
            reason: format!(
                "{phnum} program headers of {phentsize} bytes and {shnum} section headers of {shentsize} bytes, expected program headers of 56 bytes (at least one) and section headers of 64"
            ),
        });
    }
    let tables = [
        ("program headers", u64_at(b, 32), u16_at(b, 54), u16_at(b, 56)),
        ("section headers", u64_at(b, 40), u16_at(b, 58), u16_at(b, 60)),
    ];
    for (what, off, entsize, num) in tables {
        let end = u64::from(entsize)
            .checked_mul(u64::from(num))
            .and_then(|n| n.checked_add(off));
        match end {
            Some(end) if end <= len => {}
            Some(end) => {
                return Err(LoadError::TruncatedElf {
                    path: p(),
                    what,
                    needed: end,
                    len,
                })
            }
            None => {
                return Err(LoadError::MalformedElf {
                    path: p(),
                    reason: format!("{what} offset overflows"),
                })
            }
        }
    }
    Ok(())
}

/// The entry points are exported functions in code, and agree with `.symtab` when the file
/// has one.
fn check_entry_points(path: &Path, elf: &Elf, exports: &[Export]) -> Result<(), LoadError> {
    for (sym, symbol) in [
        (SYM_MODULE_INIT, "ssdlet_module_init"),
        (SYM_RUN, "ssdlet_run"),
        (SYM_METADATA, "ssdlet_metadata"),
    ] {
        debug_assert_eq!(sym.strip_suffix(b"\0"), Some(symbol.as_bytes()));
        let name = symbol;
        let bad = |reason: String| LoadError::BadEntryPoint {
            path: path.to_path_buf(),
            symbol,
            reason,
        };
        let found: Vec<&Export> = exports.iter().filter(|e| e.name == name).collect();
        let e = match found.as_slice() {
            [] => return Err(bad("it is not among the exported dynamic symbols".into())),
            [e] => *e,
            _ => return Err(bad("it is exported more than once".into())),
        };
        if !e.function || !e.in_code || !e.default_visibility {
            return Err(bad(format!(
                "it is at {:#x} but is not a default-visibility function in an executable segment",
                e.value
            )));
        }
        if !elf.syms.is_empty() {
            let values: Vec<u64> = elf
                .syms
                .iter()
                .filter(|s| elf.strtab.get_at(s.st_name) == Some(name))
                .map(|s| s.st_value)
                .collect();
            if values != [e.value] {
                return Err(bad(format!(
                    "the dynamic symbol is at {:#x}, but .symtab says {values:#x?}",
                    e.value
                )));
            }
        }
    }
    Ok(())
}

/// Runs every static check on the bytes of a module file.
pub fn inspect_bytes(path: &Path, bytes: &[u8]) -> Result<Inspected, LoadError> {
    let p = || path.to_path_buf();
    check_header(path, bytes)?;
    let elf = Elf::parse(bytes).map_err(|e| LoadError::MalformedElf {
        path: p(),
        reason: e.to_string(),
    })?;
    let len = bytes.len() as u64;
    for sh in elf.section_headers.iter().filter(|sh| sh.sh_type != SHT_NOBITS) {
        let end = sh.sh_offset.saturating_add(sh.sh_size);
        if end > len {
            return Err(LoadError::TruncatedElf {
                path: p(),
                what: "sections",
                needed: end,
                len,
            });
        }
    }
    let exports = super::structure::check(path, bytes, &elf)?;
    let section = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(SECTION_NAME))
        .ok_or_else(|| LoadError::NoMetadata { path: p() })?;
    if section.sh_type == SHT_NOBITS {
        return Err(LoadError::CorruptMetadata {
            path: p(),
            reason: "the section has no file contents".into(),
        });
    }
    // The module reports its metadata from memory: the section must be loaded (and then the
    // structural checks put it where its segment maps it).
    if section.sh_flags & u64::from(SHF_ALLOC) == 0 {
        return Err(LoadError::CorruptMetadata {
            path: p(),
            reason: "the section is not loaded (no SHF_ALLOC), so the module cannot report it".into(),
        });
    }
    // In bounds: checked for every non-NOBITS section above.
    let start = section.sh_offset as usize;
    let meta_bytes = &bytes[start..start + section.sh_size as usize];
    let corrupt = |reason: String| LoadError::CorruptMetadata { path: p(), reason };
    let header = read_header(meta_bytes).map_err(|e| corrupt(e.to_string()))?;
    if header.abi_version != ABI_VERSION {
        return Err(LoadError::AbiMismatch {
            path: p(),
            found: header.abi_version,
            expected: ABI_VERSION,
        });
    }
    let meta = super::meta::parse(meta_bytes).map_err(corrupt)?;
    check_entry_points(path, &elf, &exports)?;

    let mut imports: Vec<String> = elf
        .dynsyms
        .iter()
        .filter(|s| s.st_shndx == 0)
        .filter_map(|s| elf.dynstrtab.get_at(s.st_name))
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    imports.sort();
    imports.dedup();
    let denied: Vec<(String, &str)> = imports
        .iter()
        .filter_map(|s| imports::denied(s).map(|why| (s.clone(), why)))
        .collect();
    if !denied.is_empty() {
        let list = denied
            .iter()
            .map(|(s, why)| format!("`{s}` ({why})"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(LoadError::ForbiddenImport {
            path: p(),
            symbols: denied.into_iter().map(|(s, _)| s).collect(),
            list,
        });
    }
    Ok(Inspected {
        path: p(),
        meta,
        machine: goblin::elf::header::machine_to_str(HOST_MACHINE),
        imports,
        meta_bytes: meta_bytes.to_vec(),
        overflow_checks: ndp_protocol::meta::built_with_overflow_checks(bytes),
    })
}

/// Reads `path` and runs every static check on it (what `ndp inspect` does: the loader's own
/// code and errors, INVARIANT(checks-before-dlopen)).
pub fn inspect(path: &Path) -> Result<Inspected, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    inspect_bytes(path, &bytes)
}
