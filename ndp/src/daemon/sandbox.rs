//! [`confine`]: the system-call filter of `ndp serve`'s firmware child (seccomp-bpf, built with
//! `seccompiler`), installed on every thread of the child once its socket listens and before it
//! serves a session, so before any module is loaded.
//!
//! A module is native code in the child's process (INVARIANT(import-lint-not-sandbox): the
//! loader's import lint catches honest mistakes only). The filter takes from it what the device
//! firmware never needs: running programs (`execve`, `execveat`), new processes (`fork`,
//! `vfork`, `clone` without `CLONE_THREAD`; `clone3`, whose flags a filter cannot read, answers
//! `ENOSYS` so the C library falls back to `clone`), sockets other than Unix ones (no network),
//! signals to other processes, tracing or reading other processes' memory, and the kernel's
//! administrative calls (mounts, modules, BPF, keys, namespaces, reboot, clocks, users). Each
//! fails with `EPERM` (an SSDlet sees an error it can report; the firmware keeps running). File
//! access is not filtered (a filter cannot read paths); the firmware's own files are its image
//! and its private socket.

use std::collections::BTreeMap;
use std::convert::TryInto;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};

use super::DaemonError;

/// System calls refused outright.
const REFUSED: &[i64] = &[
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_fork,
    libc::SYS_vfork,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pidfd_open,
    libc::SYS_pidfd_getfd,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_reboot,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_setuid,
    libc::SYS_setgid,
    libc::SYS_setreuid,
    libc::SYS_setregid,
    libc::SYS_setresuid,
    libc::SYS_setresgid,
    libc::SYS_setgroups,
];

fn sandbox_error(e: impl std::fmt::Display) -> DaemonError {
    DaemonError::Runtime(std::io::Error::other(format!(
        "cannot install the firmware's system-call filter: {e}"
    )))
}

fn arg(index: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, DaemonError> {
    SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value).map_err(sandbox_error)
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, DaemonError> {
    SeccompRule::new(conditions).map_err(sandbox_error)
}

/// The two programs: `EPERM` for what is refused (module docs), `ENOSYS` for `clone3`.
fn programs() -> Result<[BpfProgram; 2], DaemonError> {
    let arch: TargetArch = std::env::consts::ARCH.try_into().map_err(sandbox_error)?;
    let me = u64::from(std::process::id());
    let mut refused: BTreeMap<i64, Vec<SeccompRule>> = REFUSED.iter().map(|&s| (s, Vec::new())).collect();
    // A process (no CLONE_THREAD), not a thread.
    refused.insert(
        libc::SYS_clone,
        vec![rule(vec![arg(
            0,
            SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
            0,
        )?])?],
    );
    // Sockets of any family but AF_UNIX.
    refused.insert(
        libc::SYS_socket,
        vec![rule(vec![arg(0, SeccompCmpOp::Ne, libc::AF_UNIX as u64)?])?],
    );
    refused.insert(
        libc::SYS_socketpair,
        vec![rule(vec![arg(0, SeccompCmpOp::Ne, libc::AF_UNIX as u64)?])?],
    );
    // Signals to any process but this one.
    refused.insert(libc::SYS_kill, vec![rule(vec![arg(0, SeccompCmpOp::Ne, me)?])?]);
    refused.insert(libc::SYS_tgkill, vec![rule(vec![arg(0, SeccompCmpOp::Ne, me)?])?]);
    refused.insert(
        libc::SYS_rt_sigqueueinfo,
        vec![rule(vec![arg(0, SeccompCmpOp::Ne, me)?])?],
    );
    let eperm = SeccompFilter::new(
        refused,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(sandbox_error)?;
    let enosys = SeccompFilter::new(
        [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(sandbox_error)?;
    Ok([
        eperm.try_into().map_err(sandbox_error)?,
        enosys.try_into().map_err(sandbox_error)?,
    ])
}

/// Installs the filter (module docs) on every thread of this process, for good.
pub fn confine() -> Result<(), DaemonError> {
    for p in programs()? {
        seccompiler::apply_filter_all_threads(&p).map_err(sandbox_error)?;
    }
    Ok(())
}
