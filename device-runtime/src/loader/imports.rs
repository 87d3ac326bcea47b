//! The import lint: symbols a module may not import.
//!
//! **This is a lint, not a sandbox** (INVARIANT(import-lint-not-sandbox)). A module is native
//! code running in the runtime's process; it can reach any system call through inline
//! assembly, through `syscall` (which every std `cdylib` already imports, as it does `open64`
//! and `mmap64`), or by writing memory it should not. The lint catches the honest mistake of
//! using `std::net`, `std::process` or the filesystem-mutating parts of `std::fs` in an
//! SSDlet, which must reach storage and the world only through the runtime. It refuses only
//! what std does not pull in by itself, so ordinary modules pass. Isolation, if ever needed,
//! belongs to a process or VM boundary, not to this list.

/// Why a symbol is denied, if it is.
pub fn denied(symbol: &str) -> Option<&'static str> {
    // Strip a `@VERSION` suffix if a tool left one in the name.
    let name = symbol.split('@').next().unwrap_or(symbol);
    DENY.iter().find(|(s, _)| *s == name).map(|(_, why)| *why)
}

const NET: &str = "network access";
const PROC: &str = "process creation or control";
const FS: &str = "host filesystem mutation";
const DL: &str = "loading further code";

// INVARIANT(import-lint-not-sandbox): only what std does not import by itself
/// The deny-list: symbol and reason.
pub const DENY: &[(&str, &str)] = &[
    ("socket", NET),
    ("socketpair", NET),
    ("connect", NET),
    ("bind", NET),
    ("listen", NET),
    ("accept", NET),
    ("accept4", NET),
    ("send", NET),
    ("sendto", NET),
    ("sendmsg", NET),
    ("sendmmsg", NET),
    ("recv", NET),
    ("recvfrom", NET),
    ("recvmsg", NET),
    ("recvmmsg", NET),
    ("getaddrinfo", NET),
    ("gethostbyname", NET),
    ("gethostbyname_r", NET),
    ("fork", PROC),
    ("vfork", PROC),
    ("clone", PROC),
    ("clone3", PROC),
    ("execve", PROC),
    ("execv", PROC),
    ("execvp", PROC),
    ("execvpe", PROC),
    ("execl", PROC),
    ("execlp", PROC),
    ("execle", PROC),
    ("fexecve", PROC),
    ("posix_spawn", PROC),
    ("posix_spawnp", PROC),
    ("system", PROC),
    ("popen", PROC),
    ("kill", PROC),
    ("ptrace", PROC),
    ("unlink", FS),
    ("unlinkat", FS),
    ("rename", FS),
    ("renameat", FS),
    ("renameat2", FS),
    ("mkdir", FS),
    ("mkdirat", FS),
    ("rmdir", FS),
    ("dlopen", DL),
    ("dlmopen", DL),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_list() {
        assert_eq!(denied("socket"), Some(NET));
        assert_eq!(denied("execve@GLIBC_2.2.5"), Some(PROC));
        // What every std cdylib imports by itself passes.
        for ok in [
            "open64",
            "mmap64",
            "syscall",
            "malloc",
            "write",
            "read",
            "pthread_key_create",
        ] {
            assert_eq!(denied(ok), None, "{ok}");
        }
    }
}
