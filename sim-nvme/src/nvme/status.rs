//! NVMe completion status: status code type and status code, as in the NVMe 1.x base spec.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::IoError;
use crate::ftl::FtlError;

/// A completion status (SCT, SC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Status {
    /// Status code type: 0 generic, 1 command specific, 2 media error, 7 vendor.
    pub sct: u8,
    /// Status code.
    pub sc: u8,
}

impl Status {
    /// Successful completion.
    pub const SUCCESS: Status = Status { sct: 0, sc: 0x00 };
    /// Invalid Command Opcode.
    pub const INVALID_OPCODE: Status = Status { sct: 0, sc: 0x01 };
    /// Invalid Field in Command (zero length, beyond MDTS, bad buffer, bad matcher keys).
    pub const INVALID_FIELD: Status = Status { sct: 0, sc: 0x02 };
    /// Data Transfer Error.
    pub const DATA_TRANSFER_ERROR: Status = Status { sct: 0, sc: 0x04 };
    /// Internal Error (the backing media failed).
    pub const INTERNAL_ERROR: Status = Status { sct: 0, sc: 0x06 };
    /// Invalid Namespace or Format.
    pub const INVALID_NAMESPACE: Status = Status { sct: 0, sc: 0x0B };
    /// LBA Out of Range.
    pub const LBA_OUT_OF_RANGE: Status = Status { sct: 0, sc: 0x80 };
    /// Capacity Exceeded.
    pub const CAPACITY_EXCEEDED: Status = Status { sct: 0, sc: 0x81 };
    /// Unrecovered Read Error (media and data integrity): the data failed its checksum.
    pub const UNRECOVERED_READ_ERROR: Status = Status { sct: 2, sc: 0x81 };
    /// Invalid Queue Identifier (command specific).
    pub const INVALID_QUEUE_ID: Status = Status { sct: 1, sc: 0x01 };
    /// Invalid Queue Size (command specific).
    pub const INVALID_QUEUE_SIZE: Status = Status { sct: 1, sc: 0x02 };

    /// Whether the command succeeded.
    pub fn is_success(self) -> bool {
        self == Status::SUCCESS
    }

    /// The spec's name for this status.
    pub fn name(self) -> &'static str {
        match (self.sct, self.sc) {
            (0, 0x00) => "Successful Completion",
            (0, 0x01) => "Invalid Command Opcode",
            (0, 0x02) => "Invalid Field in Command",
            (0, 0x04) => "Data Transfer Error",
            (0, 0x06) => "Internal Error",
            (0, 0x0B) => "Invalid Namespace or Format",
            (0, 0x80) => "LBA Out of Range",
            (0, 0x81) => "Capacity Exceeded",
            (1, 0x01) => "Invalid Queue Identifier",
            (1, 0x02) => "Invalid Queue Size",
            (2, 0x81) => "Unrecovered Read Error",
            _ => "Vendor or Unknown Status",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SCT {:#x}, SC {:#04x})", self.name(), self.sct, self.sc)
    }
}

// INVARIANT(sim-no-panic-on-input): a bad command completes with the NVMe status naming the fault
impl From<&IoError> for Status {
    fn from(e: &IoError) -> Status {
        match e {
            IoError::LbaOutOfRange { .. } => Status::LBA_OUT_OF_RANGE,
            IoError::Empty | IoError::TooLarge { .. } | IoError::BufferSize { .. } | IoError::Matcher(_) => {
                Status::INVALID_FIELD
            }
            IoError::Ftl(FtlError::NoSpace) => Status::CAPACITY_EXCEEDED,
            IoError::Media(e)
                if e.get_ref()
                    .is_some_and(|i| i.is::<crate::image::UnrecoveredRead>()) =>
            {
                Status::UNRECOVERED_READ_ERROR
            }
            IoError::Media(_) => Status::INTERNAL_ERROR,
        }
    }
}
