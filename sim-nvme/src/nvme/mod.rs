//! The NVMe command interface: queue pairs, commands, completions and status codes.
//!
//! A [`Controller`] owns the [`Ssd`](crate::Ssd). The host creates I/O queue pairs (each with
//! its own depth) through admin commands on queue 0, submits commands stamped with the
//! simulated instant it issues them, and reaps completions stamped with the instant they
//! complete. A command submitted on an I/O queue pays the host I/O stack
//! (`host.io_stack_ns`) before it reaches the device: that is the conventional `pread` path.
//!
//! Opcodes `0xC0..=0xFF` are reserved for vendor-specific **in-storage-computing** commands; a
//! [`VendorHandler`] installed by the device runtime serves them. Without one, or for any other
//! opcode the device does not know, the command completes with *Invalid Command Opcode*.
//! Firmware that owns the controller (the device runtime) cannot be called back from inside
//! it; it uses [`Controller::dispatch`] instead, which executes standard commands and hands
//! vendor commands back (charged the host I/O stack, the payload's PCIe transfer and a
//! firmware-core command time) until [`Controller::complete_vendor`] posts their completion.
//! Bad commands never panic: they complete with the NVMe status that names the fault.

mod command;
mod controller;
mod status;

pub use command::{Command, Identify, Payload, VENDOR_OPCODES};
pub use controller::{
    Completion, Controller, DeferredVendor, Dispatched, Drive, QueueId, SharedSsd, SubmitError,
    VendorHandler, VendorReply, ADMIN_QUEUE,
};
pub use status::Status;
