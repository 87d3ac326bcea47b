//! Turns a fault inside a fiber into a return from that fiber instead of a dead process.
//!
//! A stack overflow in an SSDlet runs into its fiber's guard page and raises `SIGSEGV`; a
//! wild access raises `SIGSEGV` or `SIGBUS`. Without help that kills the whole process. This
//! module installs (once) a process-wide handler for both signals, running on an alternate
//! signal stack (the faulting stack is exhausted). When the fault happened on the stack of the
//! fiber this thread is running (recorded in a thread-local by [`crate::fiber::Fiber::resume`]),
//! the handler uses corosensei's trap support to rewrite the interrupted register context so
//! that, on return from the handler, the fiber's stack is reset and the fiber returns
//! [`crate::fiber::FiberExit::Trapped`] to whoever resumed it. Any other fault is passed to
//! the previously installed handler (Rust's own stack-overflow reporter, or the default
//! action), so behaviour outside fibers is unchanged.
//!
//! What is abandoned on a trap: every object on the fiber's stack (memory it owned stays
//! allocated and stays charged to the SSDlet), and any state of the module that was being
//! updated (a lock held, a static half-written). The runtime therefore poisons the module
//! (no new instances) and never runs its own bookkeeping near the guard page: every runtime
//! service that does more than small, bounded work first checks for
//! [`crate::services::STACK_RESERVE`] bytes of headroom.

use std::cell::Cell;
use std::sync::OnceLock;

use corosensei::trap::{CoroutineTrapHandler, TrapHandlerRegs};

use crate::fiber::FiberExit;

/// What went wrong in a fiber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// The fiber ran into the guard page below its stack.
    StackOverflow {
        /// The faulting address.
        addr: usize,
    },
    /// Another invalid memory access on the fiber.
    MemoryFault {
        /// `SIGSEGV` or `SIGBUS`.
        signal: i32,
        /// The faulting address.
        addr: usize,
    },
}

/// The fiber currently running on this thread, as the signal handler needs it.
#[derive(Clone, Copy)]
pub(crate) struct ActiveFiber {
    pub(crate) handler: CoroutineTrapHandler<FiberExit>,
    /// Guard page range `[guard_lo, guard_hi)` below the usable stack.
    pub(crate) guard_lo: usize,
    pub(crate) guard_hi: usize,
}

/// What [`crate::fiber::Fiber::resume`] and the signal handler keep per thread, in one
/// thread-local so a resume reaches both with one look-up.
pub(crate) struct ThreadFibers {
    /// Whether [`prepare_thread`] already ran on this thread.
    pub(crate) prepared: Cell<bool>,
    /// The fiber being resumed on this thread, or null: set only for the length of its
    /// `resume`, during which the `Fiber` it points into is borrowed and cannot move.
    pub(crate) active: Cell<*const ActiveFiber>,
}

thread_local! {
    /// Const-initialised and without a destructor, so reading it from a signal handler does
    /// not allocate or lock.
    pub(crate) static FIBERS: ThreadFibers = const {
        ThreadFibers {
            prepared: Cell::new(false),
            active: Cell::new(std::ptr::null()),
        }
    };
}

struct PrevActions {
    segv: libc::sigaction,
    bus: libc::sigaction,
}

// SAFETY: `sigaction` is plain old data (integers, a signal mask and function addresses);
// it is written once before publication through the OnceLock and only read afterwards.
unsafe impl Sync for PrevActions {}
// SAFETY: as above; nothing in it is tied to a thread.
unsafe impl Send for PrevActions {}

static PREV: OnceLock<PrevActions> = OnceLock::new();

/// Installs the process-wide fault handler (idempotent) and makes sure the calling thread
/// has an alternate signal stack.
/// Callers check [`ThreadFibers::prepared`] first (a cheap check per resume).
#[cold]
pub(crate) fn prepare_thread(fibers: &ThreadFibers) {
    PREV.get_or_init(install);
    ALT_STACK.with(|_| {});
    fibers.prepared.set(true);
}

fn install() -> PrevActions {
    // SAFETY: plain libc calls with valid, zero-initialised `sigaction` structs; the handler
    // is an `extern "C"` function with the SA_SIGINFO signature.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction =
            handler as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut act.sa_mask);
        let mut segv: libc::sigaction = std::mem::zeroed();
        let mut bus: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGSEGV, &act, &mut segv);
        libc::sigaction(libc::SIGBUS, &act, &mut bus);
        PrevActions { segv, bus }
    }
}

/// An alternate signal stack this module installed for a thread that had none.
struct AltStack {
    mapping: Option<(*mut libc::c_void, usize)>,
}

const ALT_STACK_SIZE: usize = 64 * 1024;

impl AltStack {
    fn new() -> AltStack {
        // SAFETY: sigaltstack/mmap with valid arguments; the mapping is only handed to the
        // kernel as this thread's signal stack and unmapped after being disabled (Drop).
        unsafe {
            let mut old: libc::stack_t = std::mem::zeroed();
            if libc::sigaltstack(std::ptr::null(), &mut old) == 0
                && old.ss_flags & libc::SS_DISABLE == 0
                && old.ss_size >= ALT_STACK_SIZE / 4
            {
                return AltStack { mapping: None };
            }
            let size = ALT_STACK_SIZE.max(libc::SIGSTKSZ);
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if ptr == libc::MAP_FAILED {
                return AltStack { mapping: None };
            }
            let st = libc::stack_t {
                ss_sp: ptr,
                ss_flags: 0,
                ss_size: size,
            };
            if libc::sigaltstack(&st, std::ptr::null_mut()) != 0 {
                libc::munmap(ptr, size);
                return AltStack { mapping: None };
            }
            AltStack {
                mapping: Some((ptr, size)),
            }
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if let Some((ptr, size)) = self.mapping {
            // SAFETY: we installed this mapping as the thread's signal stack; disable it
            // before unmapping so the kernel never delivers onto freed memory.
            unsafe {
                let off = libc::stack_t {
                    ss_sp: std::ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                libc::sigaltstack(&off, std::ptr::null_mut());
                libc::munmap(ptr, size);
            }
        }
    }
}

thread_local! {
    static ALT_STACK: AltStack = AltStack::new();
}

#[cfg(target_arch = "x86_64")]
fn context_sp(uc: &libc::ucontext_t) -> usize {
    uc.uc_mcontext.gregs[libc::REG_RSP as usize] as usize
}

#[cfg(target_arch = "x86_64")]
fn set_regs(uc: &mut libc::ucontext_t, regs: TrapHandlerRegs) {
    let g = &mut uc.uc_mcontext.gregs;
    let TrapHandlerRegs {
        rip,
        rsp,
        rbp,
        rdi,
        rsi,
    } = regs;
    g[libc::REG_RIP as usize] = rip as i64;
    g[libc::REG_RSP as usize] = rsp as i64;
    g[libc::REG_RBP as usize] = rbp as i64;
    g[libc::REG_RDI as usize] = rdi as i64;
    g[libc::REG_RSI as usize] = rsi as i64;
}

#[cfg(target_arch = "aarch64")]
fn context_sp(uc: &libc::ucontext_t) -> usize {
    uc.uc_mcontext.sp as usize
}

#[cfg(target_arch = "aarch64")]
fn set_regs(uc: &mut libc::ucontext_t, regs: TrapHandlerRegs) {
    let m = &mut uc.uc_mcontext;
    let TrapHandlerRegs {
        pc,
        sp,
        x0,
        x1,
        x29,
        lr,
    } = regs;
    m.pc = pc;
    m.sp = sp;
    m.regs[0] = x0;
    m.regs[1] = x1;
    m.regs[29] = x29;
    m.regs[30] = lr;
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let active = FIBERS.try_with(|f| f.active.get()).unwrap_or(std::ptr::null());
    // SAFETY: non-null only while `Fiber::resume` runs on this thread (the fault interrupted
    // it), pointing into that borrowed, unmoved `Fiber` (`ThreadFibers::active`).
    if let Some(fiber) = unsafe { active.as_ref() } {
        // SAFETY: the kernel passes a valid ucontext_t and siginfo_t to an SA_SIGINFO handler.
        let (uc, addr) = unsafe { (&mut *(ctx as *mut libc::ucontext_t), (*info).si_addr() as usize) };
        if fiber.handler.stack_ptr_in_bounds(context_sp(uc)) {
            let kind = if (fiber.guard_lo..fiber.guard_hi).contains(&addr) {
                TrapKind::StackOverflow { addr }
            } else {
                TrapKind::MemoryFault { signal: sig, addr }
            };
            // SAFETY: the interrupted stack pointer is inside the running fiber (checked just
            // above), the coroutine is alive (`ThreadFibers::active` is cleared when `resume` returns), and we
            // update the interrupted context with exactly the registers corosensei asks for.
            // Runtime code never runs near the guard page (module doc), so what the reset
            // abandons is the SSDlet's own state, for which the module is poisoned.
            let regs = unsafe { fiber.handler.setup_trap_handler(move || FiberExit::Trapped(kind)) };
            set_regs(uc, regs);
            return;
        }
    }
    chain(sig, info, ctx);
}

/// Passes a fault that is not ours to the handler that was installed before us.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(prev) = PREV.get() else { return };
    let prev = if sig == libc::SIGBUS {
        &prev.bus
    } else {
        &prev.segv
    };
    let action = prev.sa_sigaction;
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
        // Restore the default action and return: the faulting instruction runs again and the
        // process dies with the usual signal, as it would have without us.
        // SAFETY: resetting a signal disposition to SIG_DFL is always valid.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was registered with SA_SIGINFO, so it has this
        // signature; we forward the kernel's own arguments.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(action) };
        f(sig, info, ctx);
    } else {
        // SAFETY: a handler registered without SA_SIGINFO has the one-argument signature.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(action) };
        f(sig);
    }
}
