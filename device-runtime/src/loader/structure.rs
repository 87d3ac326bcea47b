//! The structural checks of a module's ELF image: everything the dynamic loader will read or
//! write when it maps, relocates and initialises the module, checked against the file before
//! `dlopen` (INVARIANT(checks-before-dlopen)), so that a damaged file is refused with a typed
//! error instead of crashing, aborting or hanging the process that loads it.
//!
//! What is checked, in order:
//! 1. every program header inside the file, `p_memsz >= p_filesz`, a known type, sane flags and
//!    alignment; `PT_LOAD`s page-aligned, `p_vaddr` congruent to `p_offset` modulo `p_align`,
//!    sorted and not overlapping in memory; `PT_DYNAMIC`, `PT_GNU_RELRO`, `PT_TLS`'s image,
//!    `PT_NOTE`, ... inside one `PT_LOAD` (the dynamic section and RELRO in a writable one);
//! 2. every allocated section inside the file-backed part of a `PT_LOAD`, at the offset the
//!    mapping gives it (so what `inspect` reads from the file is what the module sees);
//! 3. the dynamic section, read as the loader reads it (from the mapped image): terminated,
//!    each table (`DT_STRTAB`/`DT_STRSZ`, `DT_SYMTAB`, the hash tables, `DT_RELA`/`DT_RELASZ`/
//!    `DT_RELAENT`, `DT_JMPREL`/`DT_PLTRELSZ`/`DT_PLTREL`, `DT_RELR`, `DT_INIT_ARRAY`,
//!    `DT_FINI_ARRAY`, `DT_VERSYM`, `DT_VERNEED`, `DT_VERDEF`) inside a loaded segment, the
//!    entry sizes and counts the loader asserts on, every string offset inside the string
//!    table, no text relocations;
//! 4. the hash tables (no empty bucket array, no chain running off its table or in a cycle),
//!    which give the number of dynamic symbols; every symbol's name and value in range;
//! 5. every relocation: a known type, its target inside a writable `PT_LOAD`, its symbol index
//!    in range, a relative addend inside the image (an `IRELATIVE` resolver in code), and no
//!    pointer strictly inside a function the unwind tables describe, when `PT_GNU_EH_FRAME`
//!    points at tables in the form linkers write ([`super::unwind`]);
//! 6. the symbol versions (every index used is defined; every needed file is a `DT_NEEDED`);
//! 7. `DT_INIT`, `DT_FINI` and every slot of the init and fini arrays relocated to code.
//!
//! Nothing here runs module code or trusts a size before it is bounded by the file.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use goblin::elf::dynamic::{self as dt, tag_to_str};
use goblin::elf::program_header::{self as pt, pt_to_str, ProgramHeader};
use goblin::elf::section_header::{SHF_ALLOC, SHT_NOBITS};
use goblin::elf::sym::{STB_LOCAL, STT_FUNC, STT_GNU_IFUNC, STT_TLS};
use goblin::elf::Elf;

use super::error::LoadError;

/// The smallest page size a `PT_LOAD` must be aligned to.
const MIN_PAGE: u64 = 4096;
/// The largest `p_align` accepted (1 GiB).
const MAX_ALIGN: u64 = 1 << 30;
/// Upper bound on walks (version chains, hash chains) beyond the table sizes themselves.
const MAX_WALK: usize = 1 << 16;
/// `PT_GNU_SFRAME` (binutils 2.40+).
const PT_GNU_SFRAME: u32 = 0x6474_e554;
/// `DT_RELRSZ`, `DT_RELR`, `DT_RELRENT` (packed relative relocations).
const DT_RELRSZ: u64 = 35;
const DT_RELR: u64 = 36;
const DT_RELRENT: u64 = 37;

/// Relocation types this loader accepts, per architecture.
#[cfg(target_arch = "x86_64")]
mod rel {
    pub const NONE: u32 = 0;
    pub const ABS64: u32 = 1;
    pub const GLOB_DAT: u32 = 6;
    pub const JUMP_SLOT: u32 = 7;
    pub const RELATIVE: u32 = 8;
    pub const DTPMOD: u32 = 16;
    pub const DTPOFF: u32 = 17;
    pub const TPOFF: u32 = 18;
    pub const TLSDESC: u32 = 36;
    pub const IRELATIVE: u32 = 37;
}
#[cfg(target_arch = "aarch64")]
mod rel {
    pub const NONE: u32 = 0;
    pub const ABS64: u32 = 257;
    pub const GLOB_DAT: u32 = 1025;
    pub const JUMP_SLOT: u32 = 1026;
    pub const RELATIVE: u32 = 1027;
    pub const DTPMOD: u32 = 1028;
    pub const DTPOFF: u32 = 1029;
    pub const TPOFF: u32 = 1030;
    pub const TLSDESC: u32 = 1031;
    pub const IRELATIVE: u32 = 1032;
}

/// One `PT_LOAD`, checked.
#[derive(Clone, Copy, Debug)]
struct Load {
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
    flags: u32,
}

impl Load {
    fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }

    fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.vaddr && addr.checked_add(len).is_some_and(|e| e <= self.end())
    }

    fn writable(&self) -> bool {
        self.flags & pt::PF_W != 0
    }

    fn executable(&self) -> bool {
        self.flags & pt::PF_X != 0
    }
}

/// The module as the dynamic loader will map it.
struct Image<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    /// Sorted by address, not overlapping.
    loads: Vec<Load>,
    /// `PT_TLS`'s `p_memsz`, if any.
    tls_size: Option<u64>,
}

impl Image<'_> {
    fn load_of(&self, addr: u64, len: u64) -> Option<&Load> {
        self.loads.iter().find(|l| l.contains(addr, len))
    }

    /// `len` bytes at `addr` as mapped (file bytes, then zeros past `p_filesz`).
    fn read(&self, addr: u64, len: u64) -> Option<Vec<u8>> {
        if len > self.bytes.len() as u64 {
            return None;
        }
        let l = self.load_of(addr, len)?;
        let mut out = vec![0u8; len as usize];
        let start = addr - l.vaddr;
        if start < l.filesz {
            let n = (l.filesz - start).min(len) as usize;
            let from = (l.offset + start) as usize;
            out[..n].copy_from_slice(&self.bytes[from..from + n]);
        }
        Some(out)
    }

    fn uint(&self, addr: u64, width: usize) -> Option<u64> {
        let b = self.read(addr, width as u64)?;
        let mut w = [0u8; 8];
        w[..width].copy_from_slice(&b);
        Some(u64::from_le_bytes(w))
    }

    fn in_code(&self, addr: u64) -> bool {
        self.load_of(addr, 1).is_some_and(Load::executable)
    }

    /// Inside the image's address range (the end included: pointers one past an object).
    fn in_image(&self, addr: u64) -> bool {
        let lo = self.loads.first().map_or(0, |l| l.vaddr);
        let hi = self.loads.last().map_or(0, Load::end);
        (lo..=hi).contains(&addr)
    }

    fn writable_target(&self, addr: u64, len: u64) -> bool {
        self.load_of(addr, len).is_some_and(Load::writable)
    }
}

/// Runs every structural check (see the module docs).
pub(super) fn check(path: &Path, bytes: &[u8], elf: &Elf) -> Result<Vec<Export>, LoadError> {
    let image = segments(path, bytes, &elf.program_headers)?;
    sections(&image, elf)?;
    let dynamic = Dynamic::read(&image, &elf.program_headers)?;
    dynamic.check(&image, elf)
}

fn segments<'a>(path: &'a Path, bytes: &'a [u8], phdrs: &[ProgramHeader]) -> Result<Image<'a>, LoadError> {
    let len = bytes.len() as u64;
    let bad = |index: usize, ph: &ProgramHeader, reason: String| LoadError::BadSegment {
        path: path.to_path_buf(),
        index,
        kind: pt_to_str(ph.p_type),
        reason,
    };
    let mut loads: Vec<Load> = Vec::new();
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for (i, ph) in phdrs.iter().enumerate() {
        let known = matches!(
            ph.p_type,
            pt::PT_NULL
                | pt::PT_LOAD
                | pt::PT_DYNAMIC
                | pt::PT_INTERP
                | pt::PT_NOTE
                | pt::PT_PHDR
                | pt::PT_TLS
                | pt::PT_GNU_EH_FRAME
                | pt::PT_GNU_STACK
                | pt::PT_GNU_RELRO
                | pt::PT_GNU_PROPERTY
                | PT_GNU_SFRAME
        ) || (pt::PT_LOPROC..=pt::PT_HIPROC).contains(&ph.p_type);
        if !known {
            return Err(bad(i, ph, format!("has unknown type {:#x}", ph.p_type)));
        }
        *counts.entry(ph.p_type).or_default() += 1;
        if ph.p_type == pt::PT_NULL {
            continue;
        }
        let end = ph.p_offset.checked_add(ph.p_filesz);
        if ph.p_filesz > 0 && end.is_none_or(|e| e > len) {
            return Err(LoadError::SegmentPastEnd {
                path: path.to_path_buf(),
                index: i,
                kind: pt_to_str(ph.p_type),
                end: end.map_or(u128::from(u64::MAX) + 1, u128::from),
                len,
            });
        }
        if ph.p_memsz < ph.p_filesz {
            return Err(LoadError::MemszBelowFilesz {
                path: path.to_path_buf(),
                index: i,
                kind: pt_to_str(ph.p_type),
                memsz: ph.p_memsz,
                filesz: ph.p_filesz,
            });
        }
        if ph.p_vaddr.checked_add(ph.p_memsz).is_none() {
            return Err(bad(i, ph, "wraps around the address space".into()));
        }
        if ph.p_flags & !(pt::PF_R | pt::PF_W | pt::PF_X) != 0 {
            return Err(bad(i, ph, format!("has unknown flags {:#x}", ph.p_flags)));
        }
        if ph.p_align > 1 && (!ph.p_align.is_power_of_two() || ph.p_align > MAX_ALIGN) {
            return Err(bad(
                i,
                ph,
                format!(
                    "has alignment {:#x}, expected a power of two up to {MAX_ALIGN:#x}",
                    ph.p_align
                ),
            ));
        }
        if ph.p_type == pt::PT_LOAD {
            if ph.p_align < MIN_PAGE {
                return Err(bad(
                    i,
                    ph,
                    format!(
                        "has alignment {:#x}, expected at least a page ({MIN_PAGE:#x})",
                        ph.p_align
                    ),
                ));
            }
            if ph.p_vaddr % ph.p_align != ph.p_offset % ph.p_align {
                return Err(bad(
                    i,
                    ph,
                    format!(
                        "has p_vaddr {:#x} and p_offset {:#x}, which differ modulo its alignment {:#x}",
                        ph.p_vaddr, ph.p_offset, ph.p_align
                    ),
                ));
            }
            if let Some(prev) = loads.last() {
                if ph.p_vaddr < prev.end() {
                    return Err(bad(
                        i,
                        ph,
                        format!(
                            "starts at address {:#x}, inside or before the previous PT_LOAD (which ends at {:#x}): PT_LOADs must be sorted and must not overlap",
                            ph.p_vaddr,
                            prev.end()
                        ),
                    ));
                }
            }
            loads.push(Load {
                vaddr: ph.p_vaddr,
                memsz: ph.p_memsz,
                offset: ph.p_offset,
                filesz: ph.p_filesz,
                flags: ph.p_flags,
            });
        }
    }
    if loads.is_empty() {
        return Err(LoadError::MalformedElf {
            path: path.to_path_buf(),
            reason: "no PT_LOAD segment".into(),
        });
    }
    for (ty, most) in [(pt::PT_DYNAMIC, 1), (pt::PT_TLS, 1), (pt::PT_GNU_RELRO, 1)] {
        let n = counts.get(&ty).copied().unwrap_or(0);
        if n > most || (ty == pt::PT_DYNAMIC && n == 0) {
            return Err(LoadError::MalformedElf {
                path: path.to_path_buf(),
                reason: format!("{n} {} segments, expected exactly one", pt_to_str(ty)),
            });
        }
    }
    let tls_size = phdrs
        .iter()
        .find(|ph| ph.p_type == pt::PT_TLS)
        .map(|ph| ph.p_memsz);
    let image = Image {
        path,
        bytes,
        loads,
        tls_size,
    };
    // Segments the loader reads or changes in memory lie inside one PT_LOAD.
    for (i, ph) in phdrs.iter().enumerate() {
        let (size, need_w) = match ph.p_type {
            pt::PT_DYNAMIC | pt::PT_GNU_RELRO => (ph.p_memsz, true),
            // The TLS initialisation image; p_memsz is the per-thread block, not a mapping.
            pt::PT_TLS => (ph.p_filesz, false),
            pt::PT_INTERP
            | pt::PT_NOTE
            | pt::PT_PHDR
            | pt::PT_GNU_EH_FRAME
            | pt::PT_GNU_PROPERTY
            | PT_GNU_SFRAME => (ph.p_memsz, false),
            _ => continue,
        };
        if size == 0 && ph.p_type != pt::PT_DYNAMIC {
            continue;
        }
        match image.load_of(ph.p_vaddr, size.max(1)) {
            Some(l) if l.writable() || !need_w => {}
            Some(_) => {
                return Err(bad(
                    i,
                    ph,
                    "lies in a read-only PT_LOAD, expected a writable one".into(),
                ))
            }
            None => {
                return Err(bad(
                    i,
                    ph,
                    format!(
                        "at addresses {:#x}..{:#x} is not inside one PT_LOAD",
                        ph.p_vaddr,
                        ph.p_vaddr + size
                    ),
                ))
            }
        }
        if ph.p_type == pt::PT_DYNAMIC && (ph.p_memsz < 16 || ph.p_memsz % 16 != 0) {
            return Err(bad(
                i,
                ph,
                format!("has size {:#x}, expected a non-zero multiple of 16", ph.p_memsz),
            ));
        }
        if ph.p_type == pt::PT_TLS && ph.p_align > 1 && ph.p_vaddr % ph.p_align != 0 {
            return Err(bad(i, ph, "is not aligned to its p_align".into()));
        }
    }
    Ok(image)
}

/// Every allocated section with file contents lies in the file-backed part of a `PT_LOAD`, at
/// the file offset that segment's mapping gives its address.
fn sections(image: &Image<'_>, elf: &Elf) -> Result<(), LoadError> {
    for (i, sh) in elf.section_headers.iter().enumerate() {
        if sh.sh_flags & u64::from(SHF_ALLOC) == 0 || sh.sh_type == SHT_NOBITS || sh.sh_size == 0 {
            continue;
        }
        let bad = |reason: String| LoadError::BadSection {
            path: image.path.to_path_buf(),
            index: i,
            name: elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?").to_owned(),
            reason,
        };
        let Some(l) = image.load_of(sh.sh_addr, sh.sh_size) else {
            return Err(bad(format!(
                "at addresses {:#x}..{:#x} is not inside one PT_LOAD",
                sh.sh_addr,
                sh.sh_addr.saturating_add(sh.sh_size)
            )));
        };
        let rel = sh.sh_addr - l.vaddr;
        if rel + sh.sh_size > l.filesz || l.offset + rel != sh.sh_offset {
            return Err(bad(format!(
                "is at file offset {:#x}, but its PT_LOAD maps address {:#x} from {}",
                sh.sh_offset,
                sh.sh_addr,
                if rel + sh.sh_size > l.filesz {
                    "no file bytes".to_owned()
                } else {
                    format!("offset {:#x}", l.offset + rel)
                }
            )));
        }
    }
    Ok(())
}

/// A symbol the module defines and exports, as the dynamic loader will see it.
#[derive(Clone, Debug)]
pub(super) struct Export {
    /// Its name.
    pub name: String,
    /// Its address in the image.
    pub value: u64,
    /// `STT_FUNC`.
    pub function: bool,
    /// Inside an executable `PT_LOAD`.
    pub in_code: bool,
    /// `STV_DEFAULT`.
    pub default_visibility: bool,
}

/// One dynamic symbol.
#[derive(Clone, Copy, Debug)]
struct Sym {
    name: u32,
    info: u8,
    other: u8,
    shndx: u16,
    value: u64,
}

impl Sym {
    fn defined(&self) -> bool {
        self.shndx != 0
    }
    fn kind(&self) -> u8 {
        self.info & 0xf
    }
    fn bind(&self) -> u8 {
        self.info >> 4
    }
}

/// The dynamic section as the loader reads it.
struct Dynamic {
    /// Tag and value, in order, up to (not including) `DT_NULL`.
    entries: Vec<(u64, u64)>,
}

impl Dynamic {
    fn read(image: &Image<'_>, phdrs: &[ProgramHeader]) -> Result<Dynamic, LoadError> {
        let ph = phdrs
            .iter()
            .find(|ph| ph.p_type == pt::PT_DYNAMIC)
            .expect("one PT_DYNAMIC, checked");
        let raw = image.read(ph.p_vaddr, ph.p_memsz).ok_or_else(|| {
            bad_dyn(
                image,
                dt::DT_NULL,
                "cannot be read: the dynamic segment is larger than the file".into(),
            )
        })?;
        let mut entries = Vec::new();
        for e in raw.chunks_exact(16) {
            let tag = u64::from_le_bytes(e[..8].try_into().expect("8 bytes"));
            let val = u64::from_le_bytes(e[8..].try_into().expect("8 bytes"));
            if tag == dt::DT_NULL {
                return Ok(Dynamic { entries });
            }
            entries.push((tag, val));
        }
        Err(bad_dyn(
            image,
            dt::DT_NULL,
            "is missing: the dynamic section has no terminator inside its segment".into(),
        ))
    }

    fn get(&self, tag: u64) -> Option<u64> {
        self.entries.iter().find(|e| e.0 == tag).map(|e| e.1)
    }

    fn check(&self, image: &Image<'_>, elf: &Elf) -> Result<Vec<Export>, LoadError> {
        let bad = |tag: u64, reason: String| bad_dyn(image, tag, reason);
        let mut seen = HashSet::new();
        for &(tag, _) in &self.entries {
            if tag != dt::DT_NEEDED && !seen.insert(tag) {
                return Err(bad(tag, "appears more than once".into()));
            }
        }
        let need = |tag: u64| self.get(tag).ok_or_else(|| bad(tag, "is missing".into()));
        // Things the loader cannot do safely for a module, or asserts on.
        for tag in [
            dt::DT_TEXTREL,
            dt::DT_REL,
            dt::DT_RELSZ,
            dt::DT_RELENT,
            dt::DT_PREINIT_ARRAY,
        ] {
            if self.get(tag).is_some() {
                return Err(bad(
                    tag,
                    "is not allowed in a module (text relocations, REL relocations and preinit arrays are refused)".into(),
                ));
            }
        }
        if self.get(dt::DT_FLAGS).is_some_and(|f| f & dt::DF_TEXTREL != 0) {
            return Err(bad(
                dt::DT_FLAGS,
                "has DF_TEXTREL: text relocations are refused".into(),
            ));
        }
        // A table of `size` bytes at the address of `tag`, inside one loaded segment.
        let table = |tag: u64, size: u64| -> Result<Vec<u8>, LoadError> {
            let addr = need(tag)?;
            image.read(addr, size).ok_or_else(|| {
                bad(
                    tag,
                    format!(
                        "points at {addr:#x}..{:#x}, which is not inside one loaded segment (or is larger than the file)",
                        addr.saturating_add(size)
                    ),
                )
            })
        };

        // Strings.
        let strsz = need(dt::DT_STRSZ)?;
        let strtab = table(dt::DT_STRTAB, strsz)?;
        if strtab.last() != Some(&0) {
            return Err(bad(dt::DT_STRTAB, "does not end with a NUL byte".into()));
        }
        let string = |off: u64| -> Option<&[u8]> {
            let s = strtab.get(usize::try_from(off).ok()?..)?;
            s.iter().position(|&c| c == 0).map(|n| &s[..n])
        };
        let mut needed: Vec<&[u8]> = Vec::new();
        for &(tag, val) in &self.entries {
            if matches!(tag, dt::DT_NEEDED | dt::DT_SONAME | dt::DT_RPATH | dt::DT_RUNPATH) {
                match string(val) {
                    Some(s) if tag == dt::DT_NEEDED => needed.push(s),
                    Some(_) => {}
                    None => {
                        return Err(bad(
                            tag,
                            format!("names string offset {val:#x}, past DT_STRSZ ({strsz:#x})"),
                        ))
                    }
                }
            }
        }
        if let Some(n) = self.get(dt::DT_SYMENT) {
            if n != 24 {
                return Err(bad(dt::DT_SYMENT, format!("is {n}, expected 24")));
            }
        }

        // Hash tables give the number of symbols.
        let nsyms = match (self.get(dt::DT_GNU_HASH), self.get(dt::DT_HASH)) {
            (None, None) => return Err(bad(dt::DT_GNU_HASH, "is missing (and so is DT_HASH)".into())),
            (gnu, sysv) => {
                let a = gnu.map(|h| gnu_hash(image, h)).transpose()?;
                let b = sysv.map(|h| sysv_hash(image, h)).transpose()?;
                a.into_iter().chain(b).max().expect("one of them")
            }
        };
        let symtab = table(dt::DT_SYMTAB, nsyms.saturating_mul(24))?;
        let syms: Vec<Sym> = symtab
            .chunks_exact(24)
            .map(|s| Sym {
                name: u32::from_le_bytes(s[..4].try_into().expect("4")),
                info: s[4],
                other: s[5],
                shndx: u16::from_le_bytes(s[6..8].try_into().expect("2")),
                value: u64::from_le_bytes(s[8..16].try_into().expect("8")),
            })
            .collect();
        let shnum = elf.section_headers.len();
        for (k, s) in syms.iter().enumerate() {
            let bad_sym = |reason: String| LoadError::BadSymbol {
                path: image.path.to_path_buf(),
                index: k as u64,
                name: string(u64::from(s.name))
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .unwrap_or_default(),
                reason,
            };
            if string(u64::from(s.name)).is_none() {
                return Err(bad_sym(format!(
                    "has name offset {:#x}, past DT_STRSZ ({strsz:#x})",
                    s.name
                )));
            }
            if !s.defined() {
                continue;
            }
            if s.shndx >= 0xff00 && s.shndx != 0xfff1 {
                return Err(bad_sym(format!("has reserved section index {:#x}", s.shndx)));
            }
            if s.kind() == STT_TLS {
                if image.tls_size.is_none_or(|n| s.value > n) {
                    return Err(bad_sym(format!(
                        "is a TLS symbol at offset {:#x} outside the TLS block",
                        s.value
                    )));
                }
                continue;
            }
            let code = matches!(s.kind(), STT_FUNC | STT_GNU_IFUNC);
            if s.shndx == 0xfff1 {
                if code {
                    return Err(bad_sym("is an absolute function".into()));
                }
                continue;
            }
            if code && !image.in_code(s.value) {
                return Err(bad_sym(format!(
                    "is a function at {:#x}, outside the executable segments",
                    s.value
                )));
            }
            if !image.in_image(s.value) {
                return Err(bad_sym(format!("has value {:#x} outside the image", s.value)));
            }
            // With section headers, the symbol lies in the section it names.
            if shnum > 0 && s.shndx != 0xfff1 {
                let Some(sh) = elf.section_headers.get(usize::from(s.shndx)) else {
                    return Err(bad_sym(format!(
                        "names section {}, but there are {shnum}",
                        s.shndx
                    )));
                };
                if sh.sh_flags & u64::from(SHF_ALLOC) == 0
                    || s.value < sh.sh_addr
                    || s.value > sh.sh_addr.saturating_add(sh.sh_size)
                {
                    return Err(bad_sym(format!(
                        "has value {:#x} outside its section {} ({:#x}..{:#x})",
                        s.value,
                        s.shndx,
                        sh.sh_addr,
                        sh.sh_addr.saturating_add(sh.sh_size)
                    )));
                }
            }
        }

        // Versions.
        self.versions(image, nsyms, &string, &needed)?;

        // Relocations; `writes` remembers what each relocated word will hold (when known). A
        // pointer one writes must not land strictly inside a function the unwind tables
        // describe (module `unwind`).
        let functions = function_ranges(image, &elf.program_headers);
        let mid_function = |value: u64| {
            functions
                .as_deref()
                .is_some_and(|f| super::unwind::inside_a_function(f, value))
        };
        let mut writes: HashMap<u64, Option<u64>> = HashMap::new();
        let mut relocs = |tag: u64, size_tag: u64, what: &'static str| -> Result<(), LoadError> {
            if self.get(tag).is_none() {
                if self.get(size_tag).is_some() {
                    return Err(bad(
                        tag,
                        format!("is missing but {} is present", tag_to_str(size_tag)),
                    ));
                }
                return Ok(());
            }
            let size = need(size_tag)?;
            if size % 24 != 0 {
                return Err(bad(size_tag, format!("is {size}, not a multiple of 24")));
            }
            let raw = table(tag, size)?;
            let count = if tag == dt::DT_RELA {
                self.get(dt::DT_RELACOUNT).unwrap_or(0)
            } else {
                0
            };
            if count > size / 24 {
                return Err(bad(
                    dt::DT_RELACOUNT,
                    format!("is {count}, but DT_RELASZ holds {} relocations", size / 24),
                ));
            }
            for (k, r) in raw.chunks_exact(24).enumerate() {
                let offset = u64::from_le_bytes(r[..8].try_into().expect("8"));
                let info = u64::from_le_bytes(r[8..16].try_into().expect("8"));
                let addend = u64::from_le_bytes(r[16..].try_into().expect("8"));
                let (ty, sym) = ((info & 0xffff_ffff) as u32, info >> 32);
                let bad_rel = |reason: String| LoadError::BadRelocation {
                    path: image.path.to_path_buf(),
                    table: what,
                    index: k as u64,
                    reason,
                };
                if (k as u64) < count && ty != rel::RELATIVE {
                    return Err(bad_rel(format!(
                        "has type {ty}, but DT_RELACOUNT says the first {count} are relative"
                    )));
                }
                let width = match ty {
                    rel::NONE => continue,
                    rel::TLSDESC => 16,
                    rel::ABS64
                    | rel::GLOB_DAT
                    | rel::JUMP_SLOT
                    | rel::RELATIVE
                    | rel::DTPMOD
                    | rel::DTPOFF
                    | rel::TPOFF
                    | rel::IRELATIVE => 8,
                    _ => return Err(bad_rel(format!("has unsupported type {ty}"))),
                };
                if !image.writable_target(offset, width) {
                    return Err(bad_rel(format!(
                        "writes {width} bytes at {offset:#x}, outside the writable segments"
                    )));
                }
                let Some(s) = syms.get(sym as usize) else {
                    return Err(bad_rel(format!("names symbol {sym}, but there are {nsyms}")));
                };
                let value = match ty {
                    rel::RELATIVE | rel::IRELATIVE => {
                        if sym != 0 {
                            return Err(bad_rel(format!("is relative but names symbol {sym}")));
                        }
                        if ty == rel::IRELATIVE && !image.in_code(addend) {
                            return Err(bad_rel(format!(
                                "calls a resolver at {addend:#x}, outside the executable segments"
                            )));
                        }
                        if !image.in_image(addend) {
                            return Err(bad_rel(format!("points at {addend:#x}, outside the image")));
                        }
                        (ty == rel::RELATIVE).then_some(addend)
                    }
                    rel::GLOB_DAT | rel::JUMP_SLOT | rel::ABS64 => {
                        if sym == 0 && ty != rel::ABS64 {
                            return Err(bad_rel("names no symbol".into()));
                        }
                        if sym != 0 && !s.defined() && s.bind() == STB_LOCAL {
                            return Err(bad_rel(format!(
                                "names symbol {sym}, which is local and undefined"
                            )));
                        }
                        (s.defined() && s.kind() != STT_TLS).then(|| s.value.wrapping_add(addend))
                    }
                    _ => None,
                };
                if let Some(v) = value.filter(|&v| mid_function(v)) {
                    return Err(bad_rel(format!(
                        "points at {v:#x}, inside a function the unwind tables describe, not at its start"
                    )));
                }
                writes.insert(offset, value);
            }
            Ok(())
        };
        relocs(dt::DT_RELA, dt::DT_RELASZ, "DT_RELA")?;
        if self.get(dt::DT_RELA).is_some() && self.get(dt::DT_RELAENT) != Some(24) {
            return Err(bad(dt::DT_RELAENT, "must be 24 when DT_RELA is present".into()));
        }
        if let Some(k) = self.get(dt::DT_PLTREL) {
            if k != dt::DT_RELA {
                return Err(bad(dt::DT_PLTREL, format!("is {k}, expected DT_RELA (7)")));
            }
        }
        if self.get(dt::DT_JMPREL).is_some() && self.get(dt::DT_PLTREL).is_none() {
            return Err(bad(dt::DT_PLTREL, "is missing while DT_JMPREL is present".into()));
        }
        relocs(dt::DT_JMPREL, dt::DT_PLTRELSZ, "DT_JMPREL")?;
        self.relr(image, &mut writes, &mid_function)?;
        if let Some(got) = self.get(dt::DT_PLTGOT) {
            if !image.writable_target(got, 24) {
                return Err(bad(
                    dt::DT_PLTGOT,
                    format!("points at {got:#x}, outside the writable segments"),
                ));
            }
        }

        // Code the loader calls: DT_INIT, DT_FINI and the init and fini arrays.
        for tag in [dt::DT_INIT, dt::DT_FINI] {
            if let Some(addr) = self.get(tag) {
                if !image.in_code(addr) {
                    return Err(bad(
                        tag,
                        format!("points at {addr:#x}, outside the executable segments"),
                    ));
                }
            }
        }
        for (tag, size_tag) in [
            (dt::DT_INIT_ARRAY, dt::DT_INIT_ARRAYSZ),
            (dt::DT_FINI_ARRAY, dt::DT_FINI_ARRAYSZ),
        ] {
            if self.get(tag).is_none() && self.get(size_tag).is_none() {
                continue;
            }
            let size = need(size_tag)?;
            if size % 8 != 0 {
                return Err(bad(size_tag, format!("is {size}, not a multiple of 8")));
            }
            table(tag, size)?;
            let base = need(tag)?;
            for k in 0..size / 8 {
                let slot = base + 8 * k;
                match writes.get(&slot) {
                    Some(Some(f)) if image.in_code(*f) => {}
                    Some(Some(f)) => {
                        return Err(bad(
                            tag,
                            format!("slot {k} is relocated to {f:#x}, outside the executable segments"),
                        ))
                    }
                    _ => {
                        return Err(bad(
                            tag,
                            format!("slot {k} (at {slot:#x}) is not relocated to a function of the module"),
                        ))
                    }
                }
            }
        }
        let exports = syms
            .iter()
            .filter(|s| s.defined() && s.bind() != STB_LOCAL)
            .filter_map(|s| {
                Some(Export {
                    name: String::from_utf8_lossy(string(u64::from(s.name))?).into_owned(),
                    value: s.value,
                    function: s.kind() == STT_FUNC,
                    in_code: image.in_code(s.value),
                    default_visibility: s.other & 3 == 0,
                })
            })
            .collect();
        Ok(exports)
    }

    /// `DT_RELR`: packed relative relocations (addends in place). `mid_function(value)`:
    /// whether `value` lies strictly inside a function.
    fn relr(
        &self,
        image: &Image<'_>,
        writes: &mut HashMap<u64, Option<u64>>,
        mid_function: &dyn Fn(u64) -> bool,
    ) -> Result<(), LoadError> {
        let bad = |tag: u64, reason: String| bad_dyn(image, tag, reason);
        let Some(addr) = self.get(DT_RELR) else {
            return Ok(());
        };
        if self.get(DT_RELRENT) != Some(8) {
            return Err(bad(DT_RELRENT, "must be 8 when DT_RELR is present".into()));
        }
        let size = self
            .get(DT_RELRSZ)
            .ok_or_else(|| bad(DT_RELRSZ, "is missing".into()))?;
        if size % 8 != 0 {
            return Err(bad(DT_RELRSZ, format!("is {size}, not a multiple of 8")));
        }
        let raw = image.read(addr, size).ok_or_else(|| {
            bad(
                DT_RELR,
                format!("points at {addr:#x}, not inside one loaded segment"),
            )
        })?;
        let mut next: Option<u64> = None;
        let mut reloc = |at: u64| -> Result<(), LoadError> {
            if !image.writable_target(at, 8) {
                return Err(bad(
                    DT_RELR,
                    format!("relocates {at:#x}, outside the writable segments"),
                ));
            }
            let value = image.uint(at, 8).expect("inside a segment");
            if !image.in_image(value) {
                return Err(bad(
                    DT_RELR,
                    format!("relocates {at:#x} to {value:#x}, outside the image"),
                ));
            }
            if mid_function(value) {
                return Err(bad(
                    DT_RELR,
                    format!("relocates {at:#x} to {value:#x}, inside a function, not at its start"),
                ));
            }
            writes.insert(at, Some(value));
            Ok(())
        };
        for e in raw.chunks_exact(8) {
            let e = u64::from_le_bytes(e.try_into().expect("8"));
            if e & 1 == 0 {
                reloc(e)?;
                next = Some(e.wrapping_add(8));
            } else {
                let Some(base) = next else {
                    return Err(bad(DT_RELR, "starts with a bitmap".into()));
                };
                for bit in 1..64 {
                    if e >> bit & 1 != 0 {
                        reloc(base.wrapping_add(8 * (bit - 1)))?;
                    }
                }
                next = Some(base.wrapping_add(8 * 63));
            }
        }
        Ok(())
    }

    /// `DT_VERSYM`, `DT_VERNEED`, `DT_VERDEF`: every walk inside the image and terminated,
    /// every string in the string table, every version index used defined.
    fn versions<'s>(
        &self,
        image: &Image<'_>,
        nsyms: u64,
        string: &dyn Fn(u64) -> Option<&'s [u8]>,
        needed: &[&'s [u8]],
    ) -> Result<(), LoadError> {
        let bad = |reason: String| LoadError::BadVersions {
            path: image.path.to_path_buf(),
            reason,
        };
        let mut defined: HashSet<u16> = HashSet::new();
        if let Some(addr) = self.get(dt::DT_VERNEED) {
            let num = self.get(dt::DT_VERNEEDNUM).unwrap_or(0);
            let mut at = addr;
            for n in 0..MAX_WALK as u64 {
                let e = image
                    .read(at, 16)
                    .ok_or_else(|| bad(format!("DT_VERNEED entry {n} at {at:#x} is outside the image")))?;
                let version = u16::from_le_bytes([e[0], e[1]]);
                let cnt = u16::from_le_bytes([e[2], e[3]]);
                let file = u32::from_le_bytes(e[4..8].try_into().expect("4"));
                let aux = u32::from_le_bytes(e[8..12].try_into().expect("4"));
                let next = u32::from_le_bytes(e[12..16].try_into().expect("4"));
                if version != 1 {
                    return Err(bad(format!(
                        "DT_VERNEED entry {n} has version {version}, expected 1"
                    )));
                }
                match string(u64::from(file)) {
                    Some(f) if needed.contains(&f) => {}
                    Some(f) => {
                        return Err(bad(format!(
                            "DT_VERNEED entry {n} names `{}`, which is not a DT_NEEDED library",
                            String::from_utf8_lossy(f)
                        )))
                    }
                    None => return Err(bad(format!("DT_VERNEED entry {n} has a file name past DT_STRSZ"))),
                }
                let mut a = at.wrapping_add(u64::from(aux));
                for j in 0..MAX_WALK {
                    let x = image.read(a, 16).ok_or_else(|| {
                        bad(format!(
                            "DT_VERNEED entry {n}, version {j} at {a:#x} is outside the image"
                        ))
                    })?;
                    let other = u16::from_le_bytes([x[6], x[7]]);
                    let name = u32::from_le_bytes(x[8..12].try_into().expect("4"));
                    let anext = u32::from_le_bytes(x[12..16].try_into().expect("4"));
                    if string(u64::from(name)).is_none() {
                        return Err(bad(format!(
                            "DT_VERNEED entry {n}, version {j} has a name past DT_STRSZ"
                        )));
                    }
                    defined.insert(other & 0x7fff);
                    if anext == 0 {
                        if j + 1 != usize::from(cnt) {
                            return Err(bad(format!(
                                "DT_VERNEED entry {n} has {} versions, but vn_cnt says {cnt}",
                                j + 1
                            )));
                        }
                        break;
                    }
                    a = a.wrapping_add(u64::from(anext));
                }
                if next == 0 {
                    if n + 1 != num {
                        return Err(bad(format!(
                            "DT_VERNEED has {} entries, but DT_VERNEEDNUM says {num}",
                            n + 1
                        )));
                    }
                    break;
                }
                at = at.wrapping_add(u64::from(next));
            }
        } else if self.get(dt::DT_VERNEEDNUM).is_some() {
            return Err(bad("DT_VERNEEDNUM without DT_VERNEED".into()));
        }
        if let Some(addr) = self.get(dt::DT_VERDEF) {
            let num = self.get(dt::DT_VERDEFNUM).unwrap_or(0);
            let mut at = addr;
            for n in 0..MAX_WALK as u64 {
                let e = image
                    .read(at, 20)
                    .ok_or_else(|| bad(format!("DT_VERDEF entry {n} at {at:#x} is outside the image")))?;
                let version = u16::from_le_bytes([e[0], e[1]]);
                let ndx = u16::from_le_bytes([e[4], e[5]]);
                let cnt = u16::from_le_bytes([e[6], e[7]]);
                let aux = u32::from_le_bytes(e[12..16].try_into().expect("4"));
                let next = u32::from_le_bytes(e[16..20].try_into().expect("4"));
                if version != 1 || cnt == 0 {
                    return Err(bad(format!(
                        "DT_VERDEF entry {n} has version {version} and {cnt} names"
                    )));
                }
                let a = at.wrapping_add(u64::from(aux));
                let name = image.uint(a, 4).ok_or_else(|| {
                    bad(format!(
                        "DT_VERDEF entry {n}'s name at {a:#x} is outside the image"
                    ))
                })?;
                if string(name).is_none() {
                    return Err(bad(format!("DT_VERDEF entry {n} has a name past DT_STRSZ")));
                }
                defined.insert(ndx & 0x7fff);
                if next == 0 {
                    if n + 1 != num {
                        return Err(bad(format!(
                            "DT_VERDEF has {} entries, but DT_VERDEFNUM says {num}",
                            n + 1
                        )));
                    }
                    break;
                }
                at = at.wrapping_add(u64::from(next));
            }
        } else if self.get(dt::DT_VERDEFNUM).is_some() {
            return Err(bad("DT_VERDEFNUM without DT_VERDEF".into()));
        }
        if let Some(addr) = self.get(dt::DT_VERSYM) {
            if defined.is_empty() {
                return Err(bad("DT_VERSYM without DT_VERNEED or DT_VERDEF".into()));
            }
            let raw = image.read(addr, nsyms * 2).ok_or_else(|| {
                bad(format!(
                    "DT_VERSYM at {addr:#x} ({nsyms} entries) is not inside one loaded segment"
                ))
            })?;
            for (k, v) in raw.chunks_exact(2).enumerate() {
                let v = u16::from_le_bytes([v[0], v[1]]) & 0x7fff;
                if v > 1 && !defined.contains(&v) {
                    return Err(bad(format!(
                        "symbol {k} has version index {v}, which no DT_VERNEED or DT_VERDEF entry defines"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The functions the unwind tables describe (module `unwind`), if `PT_GNU_EH_FRAME` points
/// at tables in the form linkers write.
fn function_ranges(image: &Image<'_>, phdrs: &[ProgramHeader]) -> Option<Vec<(u64, u64)>> {
    let ph = phdrs.iter().find(|ph| ph.p_type == pt::PT_GNU_EH_FRAME)?;
    let hdr = image.read(ph.p_vaddr, ph.p_memsz)?;
    super::unwind::function_ranges(ph.p_vaddr, &hdr, |addr, len| image.read(addr, len))
}

fn bad_dyn(image: &Image<'_>, tag: u64, reason: String) -> LoadError {
    LoadError::BadDynamic {
        path: image.path.to_path_buf(),
        tag: tag_to_str(tag),
        reason,
    }
}

/// Checks `DT_GNU_HASH` and returns the number of symbols it implies.
fn gnu_hash(image: &Image<'_>, addr: u64) -> Result<u64, LoadError> {
    let bad = |reason: String| bad_dyn(image, dt::DT_GNU_HASH, reason);
    let h = image
        .read(addr, 16)
        .ok_or_else(|| bad(format!("points at {addr:#x}, not inside a loaded segment")))?;
    let word = |i: usize| u32::from_le_bytes(h[4 * i..4 * i + 4].try_into().expect("4"));
    let (nbuckets, symoffset, bloom) = (u64::from(word(0)), u64::from(word(1)), u64::from(word(2)));
    if nbuckets == 0 || !bloom.is_power_of_two() {
        return Err(bad(format!(
            "has {nbuckets} buckets and {bloom} bloom words, expected at least one bucket and a power of two of words"
        )));
    }
    let buckets_at = addr + 16 + 8 * bloom;
    let buckets = image
        .read(buckets_at, 4 * nbuckets)
        .ok_or_else(|| bad(format!("its {nbuckets} buckets run outside its segment")))?;
    let chains_at = buckets_at + 4 * nbuckets;
    let mut nsyms = symoffset;
    for b in buckets.chunks_exact(4) {
        let first = u64::from(u32::from_le_bytes(b.try_into().expect("4")));
        if first == 0 {
            continue;
        }
        if first < symoffset {
            return Err(bad(format!(
                "has a bucket starting at symbol {first}, below its symbol offset {symoffset}"
            )));
        }
        let mut j = first;
        loop {
            let v = image
                .uint(chains_at + 4 * (j - symoffset), 4)
                .ok_or_else(|| bad(format!("has a chain running past its segment at symbol {j}")))?;
            if j - symoffset > image.bytes.len() as u64 {
                return Err(bad("has a chain longer than the file".into()));
            }
            if v & 1 != 0 {
                break;
            }
            j += 1;
        }
        nsyms = nsyms.max(j + 1);
    }
    Ok(nsyms)
}

/// Checks `DT_HASH` and returns the number of symbols (`nchain`).
fn sysv_hash(image: &Image<'_>, addr: u64) -> Result<u64, LoadError> {
    let bad = |reason: String| bad_dyn(image, dt::DT_HASH, reason);
    let h = image
        .read(addr, 8)
        .ok_or_else(|| bad(format!("points at {addr:#x}, not inside a loaded segment")))?;
    let nbucket = u64::from(u32::from_le_bytes(h[..4].try_into().expect("4")));
    let nchain = u64::from(u32::from_le_bytes(h[4..].try_into().expect("4")));
    if nbucket == 0 {
        return Err(bad("has no buckets".into()));
    }
    let raw = image
        .read(addr + 8, 4 * (nbucket + nchain))
        .ok_or_else(|| bad("runs outside its segment".into()))?;
    let words: Vec<u64> = raw
        .chunks_exact(4)
        .map(|w| u64::from(u32::from_le_bytes(w.try_into().expect("4"))))
        .collect();
    let (buckets, chains) = words.split_at(nbucket as usize);
    if words.iter().any(|&w| w >= nchain.max(1)) {
        return Err(bad(format!("has an index past its {nchain} chains")));
    }
    // No chain may loop (the loader would spin forever looking a symbol up).
    let mut visited = vec![false; nchain as usize];
    for &b in buckets {
        let mut j = b;
        let mut steps = 0u64;
        while j != 0 {
            if visited[j as usize] || steps > nchain {
                return Err(bad("has a chain that loops or is shared".into()));
            }
            visited[j as usize] = true;
            steps += 1;
            j = chains[j as usize];
        }
    }
    Ok(nchain)
}
