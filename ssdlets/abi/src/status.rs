//! [`Status`]: the result code of every call across the module boundary.

/// Result code returned by runtime services and module entry points.
///
/// `#[repr(transparent)]` over `i32` so it is a plain C integer on the wire. Unknown values
/// must be treated as errors by both sides (a newer peer may define more codes).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    /// The call succeeded.
    pub const OK: Status = Status(0);
    /// The port is closed (input: closed and drained; output: the receiver is gone).
    pub const CLOSED: Status = Status(1);
    /// The runtime aborted the SSDlet (watchdog, DRAM budget, application teardown). The
    /// SSDlet must return from its entry point as soon as possible; the runtime already knows
    /// the reason.
    pub const ABORTED: Status = Status(2);
    /// A port index that the SSDlet does not have.
    pub const NO_SUCH_PORT: Status = Status(3);
    /// A file handle that was not handed to this SSDlet.
    pub const NO_SUCH_FILE: Status = Status(4);
    /// An offset, length or page range outside the file, or too many / too long matcher keys.
    pub const OUT_OF_RANGE: Status = Status(5);
    /// A null pointer or otherwise malformed argument.
    pub const INVALID_ARGUMENT: Status = Status(6);
    /// The (simulated) device failed the I/O.
    pub const IO_ERROR: Status = Status(7);
    /// Too little fiber stack left to run the service safely.
    pub const STACK_EXHAUSTED: Status = Status(8);
    /// Entry point: the SSDlet panicked; the message was reported with `set_error`.
    pub const PANICKED: Status = Status(9);
    /// Entry point: the SSDlet returned an error; the message was reported with `set_error`.
    pub const FAILED: Status = Status(10);
    /// Entry point: the SSDlet index is not in this module.
    pub const NO_SUCH_SSDLET: Status = Status(11);
    /// Entry point: the argument bytes do not decode as the SSDlet's argument types.
    pub const BAD_ARGS: Status = Status(12);
    /// Entry point: the runtime's ABI version differs from the module's.
    pub const ABI_MISMATCH: Status = Status(13);

    /// Whether this is [`Status::OK`].
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// A short name for the code, for error messages.
    pub const fn name(self) -> &'static str {
        match self.0 {
            0 => "ok",
            1 => "closed",
            2 => "aborted",
            3 => "no such port",
            4 => "no such file",
            5 => "out of range",
            6 => "invalid argument",
            7 => "I/O error",
            8 => "stack exhausted",
            9 => "panicked",
            10 => "failed",
            11 => "no such SSDlet",
            12 => "bad arguments",
            13 => "ABI mismatch",
            _ => "unknown status",
        }
    }
}
