//! Every bad command completes with the right NVMe status through the `Controller`, nothing
//! panics, and a good command still works after each one: LBA out of range, zero blocks,
//! beyond MDTS, a partial-block write buffer, unknown opcodes, admin/I-O queue mix-ups, a
//! wrong namespace, nonexistent and full queues, bad queue creation and deletion. Also: a
//! vendor handler receives exactly the opcodes 0xC0..=0xFF, and Identify describes the device.

mod common;

use std::sync::{Arc, Mutex};

use common::{blocks_data, BLOCK};
use sim_nvme::nvme::{Identify, SubmitError, VendorHandler, VendorReply, ADMIN_QUEUE, VENDOR_OPCODES};
use sim_nvme::{
    Command, Controller, DeviceProfile, IoError, Lba, MatcherError, Payload, QueueId, SimTime, Ssd, Status,
};

fn controller() -> (Controller, QueueId) {
    let mut ctrl = Controller::new(Ssd::in_memory(DeviceProfile::tiny()).unwrap());
    let q = ctrl.create_io_queue(16).expect("queue");
    (ctrl, q)
}

fn status(ctrl: &mut Controller, q: QueueId, cmd: Command) -> Status {
    let desc = format!("{cmd:?}").chars().take(80).collect::<String>();
    let c = ctrl
        .submit_and_wait(q, cmd, SimTime(1_000_000))
        .unwrap_or_else(|e| panic!("{desc}: {e}"));
    assert!(c.done_at >= c.submitted_at);
    c.status
}

/// A write and a read of it succeed: the controller still works.
fn still_works(ctrl: &mut Controller, q: QueueId) {
    let data = blocks_data(42, 2, 7);
    let w = ctrl.submit_and_wait(
        q,
        Command::Write {
            nsid: 1,
            lba: Lba(42),
            data: data.clone(),
        },
        SimTime::ZERO,
    );
    assert!(w.unwrap().status.is_success());
    let r = ctrl
        .submit_and_wait(
            q,
            Command::Read {
                nsid: 1,
                lba: Lba(42),
                blocks: 2,
            },
            SimTime::ZERO,
        )
        .unwrap();
    assert!(r.status.is_success());
    assert_eq!(r.payload, Payload::Data(data));
}

fn expect(ctrl: &mut Controller, q: QueueId, cmd: Command, want: Status) {
    let desc = format!("{cmd:?}").chars().take(80).collect::<String>();
    let got = status(ctrl, q, cmd);
    assert_eq!(got, want, "{desc}: got {got}, expected {want}");
    still_works(ctrl, q);
}

#[test]
fn status_codes_have_their_spec_values() {
    let codes = [
        (Status::LBA_OUT_OF_RANGE, 0, 0x80),
        (Status::INVALID_FIELD, 0, 0x02),
        (Status::INVALID_OPCODE, 0, 0x01),
        (Status::INVALID_NAMESPACE, 0, 0x0B),
        (Status::INVALID_QUEUE_ID, 1, 0x01),
        (Status::INVALID_QUEUE_SIZE, 1, 0x02),
    ];
    for (s, sct, sc) in codes {
        assert_eq!((s.sct, s.sc), (sct, sc), "{s}");
    }
}

#[test]
fn lba_out_of_range() {
    let (mut ctrl, q) = controller();
    let cap = ctrl.ssd().capacity_lbas();
    let oor = Status::LBA_OUT_OF_RANGE;
    expect(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(cap),
            blocks: 1,
        },
        oor,
    );
    expect(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(cap - 1),
            blocks: 2,
        },
        oor,
    );
    expect(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(u64::MAX),
            blocks: 1,
        },
        oor,
    );
    expect(
        &mut ctrl,
        q,
        Command::Write {
            nsid: 1,
            lba: Lba(cap),
            data: vec![0; BLOCK],
        },
        oor,
    );
    expect(
        &mut ctrl,
        q,
        Command::Write {
            nsid: 1,
            lba: Lba(cap - 1),
            data: vec![0; 2 * BLOCK],
        },
        oor,
    );
    let ranges = vec![(Lba(0), 1), (Lba(cap - 2), 3)];
    expect(&mut ctrl, q, Command::Deallocate { nsid: 1, ranges }, oor);
    // The last block is in range.
    let c = status(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(cap - 1),
            blocks: 1,
        },
    );
    assert!(c.is_success());
}

#[test]
fn zero_blocks_is_invalid_field() {
    let (mut ctrl, q) = controller();
    let f = Status::INVALID_FIELD;
    expect(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(0),
            blocks: 0,
        },
        f,
    );
    expect(
        &mut ctrl,
        q,
        Command::Write {
            nsid: 1,
            lba: Lba(0),
            data: vec![],
        },
        f,
    );
    expect(
        &mut ctrl,
        q,
        Command::Deallocate {
            nsid: 1,
            ranges: vec![],
        },
        f,
    );
    expect(
        &mut ctrl,
        q,
        Command::Deallocate {
            nsid: 1,
            ranges: vec![(Lba(0), 0)],
        },
        f,
    );
}

#[test]
fn beyond_mdts_is_invalid_field() {
    let (mut ctrl, q) = controller();
    let mdts = ctrl.ssd().profile().controller.max_transfer_bytes as usize;
    let max_blocks = (mdts / BLOCK) as u32;
    let f = Status::INVALID_FIELD;
    expect(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(0),
            blocks: max_blocks + 1,
        },
        f,
    );
    expect(
        &mut ctrl,
        q,
        Command::Write {
            nsid: 1,
            lba: Lba(0),
            data: vec![1; mdts + BLOCK],
        },
        f,
    );
    // Exactly MDTS is fine.
    let s = status(
        &mut ctrl,
        q,
        Command::Write {
            nsid: 1,
            lba: Lba(0),
            data: blocks_data(0, max_blocks.into(), 1),
        },
    );
    assert!(s.is_success(), "{s}");
    let s = status(
        &mut ctrl,
        q,
        Command::Read {
            nsid: 1,
            lba: Lba(0),
            blocks: max_blocks,
        },
    );
    assert!(s.is_success(), "{s}");
}

#[test]
fn write_buffer_not_whole_blocks_is_invalid_field() {
    let (mut ctrl, q) = controller();
    for len in [1, 100, BLOCK - 1, BLOCK + 1, 3 * BLOCK + 512] {
        expect(
            &mut ctrl,
            q,
            Command::Write {
                nsid: 1,
                lba: Lba(3),
                data: vec![9; len],
            },
            Status::INVALID_FIELD,
        );
    }
    // Nothing was written by the refused commands.
    let s = ctrl.ssd().stats();
    assert_eq!(
        s.ftl.host_sectors_written,
        5 * 2,
        "only the good writes reached the FTL"
    );
}

#[test]
fn unknown_opcodes_are_invalid_opcode() {
    let (mut ctrl, q) = controller();
    let op = Status::INVALID_OPCODE;
    for opcode in [0x03, 0x02, 0x7F, 0xBF] {
        assert!(!VENDOR_OPCODES.contains(&opcode));
        expect(
            &mut ctrl,
            q,
            Command::Vendor {
                opcode,
                payload: vec![1, 2, 3],
            },
            op,
        );
    }
    // Inside the vendor range but no handler installed.
    for opcode in [0xC0, 0xD5, 0xFF] {
        expect(
            &mut ctrl,
            q,
            Command::Vendor {
                opcode,
                payload: vec![],
            },
            op,
        );
    }
    // On the admin queue too.
    assert_eq!(
        status(
            &mut ctrl,
            ADMIN_QUEUE,
            Command::Vendor {
                opcode: 0x7F,
                payload: vec![]
            }
        ),
        op
    );
}

#[test]
fn admin_and_io_commands_on_the_wrong_queue() {
    let (mut ctrl, q) = controller();
    let op = Status::INVALID_OPCODE;
    expect(&mut ctrl, q, Command::Identify, op);
    expect(&mut ctrl, q, Command::CreateIoQueue { depth: 4 }, op);
    expect(&mut ctrl, q, Command::DeleteIoQueue { qid: q.0 }, op);
    for cmd in [
        Command::Read {
            nsid: 1,
            lba: Lba(0),
            blocks: 1,
        },
        Command::Write {
            nsid: 1,
            lba: Lba(0),
            data: vec![0; BLOCK],
        },
        Command::Flush { nsid: 1 },
        Command::Deallocate {
            nsid: 1,
            ranges: vec![(Lba(0), 1)],
        },
    ] {
        let s = status(&mut ctrl, ADMIN_QUEUE, cmd);
        assert_eq!(s, op);
        still_works(&mut ctrl, q);
    }
    // The I/O queue was not deleted by the misplaced DeleteIoQueue.
    assert!(status(&mut ctrl, ADMIN_QUEUE, Command::DeleteIoQueue { qid: q.0 }).is_success());
}

#[test]
fn wrong_namespace() {
    let (mut ctrl, q) = controller();
    let ns = Status::INVALID_NAMESPACE;
    for nsid in [0, 2, u32::MAX] {
        expect(
            &mut ctrl,
            q,
            Command::Read {
                nsid,
                lba: Lba(0),
                blocks: 1,
            },
            ns,
        );
        expect(
            &mut ctrl,
            q,
            Command::Write {
                nsid,
                lba: Lba(0),
                data: vec![0; BLOCK],
            },
            ns,
        );
        expect(&mut ctrl, q, Command::Flush { nsid }, ns);
        expect(
            &mut ctrl,
            q,
            Command::Deallocate {
                nsid,
                ranges: vec![(Lba(0), 1)],
            },
            ns,
        );
    }
}

#[test]
fn submit_to_a_nonexistent_queue() {
    let (mut ctrl, q) = controller();
    let deleted = ctrl.create_io_queue(4).unwrap();
    assert!(status(&mut ctrl, ADMIN_QUEUE, Command::DeleteIoQueue { qid: deleted.0 }).is_success());
    for qid in [QueueId(7), QueueId(999), QueueId(u16::MAX), deleted] {
        let cmd = Command::Read {
            nsid: 1,
            lba: Lba(0),
            blocks: 1,
        };
        match ctrl.submit(qid, cmd.clone(), SimTime::ZERO) {
            Err(e @ SubmitError::InvalidQueue { .. }) => {
                assert_eq!(e.status(), Some(Status { sct: 1, sc: 1 }), "{e}");
                assert_eq!(e.status(), Some(Status::INVALID_QUEUE_ID));
                assert_eq!(e.into_command(), cmd);
            }
            other => panic!("queue {qid:?}: expected InvalidQueue, got {other:?}"),
        }
        assert!(ctrl
            .submit_and_wait(qid, Command::Flush { nsid: 1 }, SimTime::ZERO)
            .is_err());
        assert!(ctrl.reap(qid).is_none());
        assert_eq!(ctrl.outstanding(qid), 0);
        still_works(&mut ctrl, q);
    }
}

#[test]
fn full_queue_gives_the_command_back() {
    let (mut ctrl, _) = controller();
    let q = ctrl.create_io_queue(2).unwrap();
    let read = |lba| Command::Read {
        nsid: 1,
        lba: Lba(lba),
        blocks: 1,
    };
    let a = ctrl.submit(q, read(1), SimTime::ZERO).unwrap();
    let b = ctrl.submit(q, read(2), SimTime::ZERO).unwrap();
    assert_ne!(a, b);
    assert_eq!(ctrl.outstanding(q), 2);
    let third = Command::Write {
        nsid: 1,
        lba: Lba(3),
        data: blocks_data(3, 1, 1),
    };
    match ctrl.submit(q, third.clone(), SimTime::ZERO) {
        Err(e @ SubmitError::QueueFull { depth: 2, .. }) => {
            assert_eq!(e.status(), None);
            assert_eq!(e.into_command(), third);
        }
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert!(matches!(
        ctrl.submit_and_wait(q, read(4), SimTime::ZERO),
        Err(SubmitError::QueueFull { .. })
    ));
    // Reap one: there is room again, and the refused write was never executed.
    let c = ctrl.reap(q).unwrap();
    assert!(c.status.is_success() && (c.cid == a || c.cid == b));
    assert_eq!(ctrl.ssd().stats().writes, 0);
    ctrl.submit(q, third, SimTime::ZERO).unwrap();
    let mut reaped = 0;
    while let Some(c) = ctrl.reap(q) {
        assert!(c.status.is_success());
        reaped += 1;
    }
    assert_eq!(reaped, 2);
    still_works(&mut ctrl, q);
}

#[test]
fn create_and_delete_io_queues() {
    let (mut ctrl, q) = controller();
    let max_depth = ctrl.ssd().profile().controller.max_queue_depth;
    let max_queues = ctrl.ssd().profile().controller.max_io_queues;
    for depth in [0, 1, max_depth + 1, u16::MAX] {
        assert_eq!(
            ctrl.create_io_queue(depth),
            Err(Status::INVALID_QUEUE_SIZE),
            "depth {depth}"
        );
        assert_eq!(
            status(&mut ctrl, ADMIN_QUEUE, Command::CreateIoQueue { depth }),
            Status::INVALID_QUEUE_SIZE
        );
        still_works(&mut ctrl, q);
    }
    // Fill every queue slot (one exists already), then one more is refused.
    let created: Vec<QueueId> = (1..max_queues)
        .map(|_| ctrl.create_io_queue(max_depth).unwrap())
        .collect();
    assert_eq!(ctrl.create_io_queue(2), Err(Status::INVALID_QUEUE_ID));
    for qid in [0, 60_000, max_queues + 1] {
        let s = status(&mut ctrl, ADMIN_QUEUE, Command::DeleteIoQueue { qid });
        assert_eq!(s, Status::INVALID_QUEUE_ID, "delete {qid}");
    }
    let last = *created.last().unwrap();
    assert!(status(&mut ctrl, ADMIN_QUEUE, Command::DeleteIoQueue { qid: last.0 }).is_success());
    assert_eq!(
        status(&mut ctrl, ADMIN_QUEUE, Command::DeleteIoQueue { qid: last.0 }),
        Status::INVALID_QUEUE_ID
    );
    // Its slot can be reused.
    assert_eq!(ctrl.create_io_queue(4), Ok(last));
    still_works(&mut ctrl, q);
    still_works(&mut ctrl, last);
}

#[test]
fn identify_describes_the_device() {
    let (mut ctrl, _) = controller();
    let p = DeviceProfile::tiny();
    let c = ctrl
        .submit_and_wait(ADMIN_QUEUE, Command::Identify, SimTime::ZERO)
        .unwrap();
    assert!(c.status.is_success());
    let Payload::Identify(id) = c.payload else {
        panic!("{:?}", c.payload)
    };
    let Identify {
        model,
        namespace_blocks,
        block_bytes,
        max_transfer_bytes,
        channels,
        vendor_opcodes,
        ..
    } = *id.clone();
    assert!(model.contains("tiny"), "{model}");
    assert_eq!(namespace_blocks, ctrl.ssd().capacity_lbas());
    assert!(namespace_blocks > 0 && namespace_blocks < ctrl.ssd().layout().total_sectors());
    assert_eq!(block_bytes, 4096);
    assert_eq!(max_transfer_bytes, p.controller.max_transfer_bytes);
    assert_eq!(
        (id.max_io_queues, id.max_queue_depth),
        (p.controller.max_io_queues, p.controller.max_queue_depth)
    );
    assert_eq!(channels, p.geometry.channels);
    assert_eq!(
        (id.matcher_max_keys, id.matcher_max_key_bytes),
        (p.matcher.max_keys, p.matcher.max_key_bytes)
    );
    assert_eq!(vendor_opcodes, (0xC0, 0xFF));
    assert!(!id.firmware.is_empty());
}

/// Records the opcodes it sees; answers 0xFE with Invalid Field, everything else with its
/// payload reversed, 1 us after it arrives.
struct Recorder(Arc<Mutex<Vec<u8>>>);

impl VendorHandler for Recorder {
    fn handle(&mut self, _ssd: &mut Ssd, at: SimTime, opcode: u8, mut payload: Vec<u8>) -> VendorReply {
        self.0.lock().unwrap().push(opcode);
        payload.reverse();
        let status = if opcode == 0xFE {
            Status::INVALID_FIELD
        } else {
            Status::SUCCESS
        };
        VendorReply {
            status,
            result: u32::from(opcode),
            payload,
            done_at: at + sim_nvme::SimDuration(1_000),
        }
    }
}

#[test]
fn vendor_handler_gets_exactly_the_vendor_range() {
    let (mut ctrl, q) = controller();
    let seen = Arc::new(Mutex::new(Vec::new()));
    ctrl.set_vendor_handler(Box::new(Recorder(seen.clone())));
    for opcode in 0..=u8::MAX {
        let c = ctrl
            .submit_and_wait(
                q,
                Command::Vendor {
                    opcode,
                    payload: vec![1, 2, opcode],
                },
                SimTime::ZERO,
            )
            .unwrap();
        if VENDOR_OPCODES.contains(&opcode) {
            let want = if opcode == 0xFE {
                Status::INVALID_FIELD
            } else {
                Status::SUCCESS
            };
            assert_eq!(c.status, want, "opcode {opcode:#x}");
            assert_eq!(c.result, u32::from(opcode));
            assert_eq!(c.payload, Payload::Data(vec![opcode, 2, 1]));
            // Host stack, then the command's data over PCIe, 1 us of handling, the reply back.
            assert!(c.latency().as_nanos() > ctrl.ssd().profile().host.io_stack_ns + 1_000);
        } else {
            assert_eq!(c.status, Status::INVALID_OPCODE, "opcode {opcode:#x}");
        }
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, VENDOR_OPCODES.collect::<Vec<u8>>());
    still_works(&mut ctrl, q);
}

#[test]
fn matcher_errors_map_to_invalid_field() {
    let e = IoError::Matcher(MatcherError::TooManyKeys { given: 4, max: 3 });
    assert_eq!(Status::from(&e), Status::INVALID_FIELD);
    let e = IoError::LbaOutOfRange {
        lba: 1,
        count: 1,
        capacity: 1,
    };
    assert_eq!(Status::from(&e), Status::LBA_OUT_OF_RANGE);
}

#[test]
fn dispatch_hands_vendor_commands_back_and_holds_their_queue_slot() {
    use sim_nvme::nvme::Dispatched;
    let mut c = Controller::new(Ssd::in_memory(DeviceProfile::tiny()).unwrap());
    let q = c.create_io_queue(2).unwrap();
    let at = SimTime(1_000);
    let Ok(Dispatched::Vendor(v)) = c.dispatch(
        q,
        Command::Vendor {
            opcode: 0xC4,
            payload: vec![1; 64],
        },
        at,
    ) else {
        panic!("a vendor opcode is handed back");
    };
    assert_eq!((v.opcode, v.payload.len()), (0xC4, 64));
    assert!(v.arrived_at > at, "host stack, PCIe and firmware are charged");
    assert_eq!(c.outstanding(q), 1, "the deferred command holds its slot");
    // A standard command still executes inside the controller.
    let Ok(Dispatched::Completed(cid)) = c.dispatch(q, Command::Flush { nsid: 1 }, at) else {
        panic!("a flush completes in the controller");
    };
    assert!(matches!(
        c.dispatch(q, Command::Flush { nsid: 1 }, at),
        Err(SubmitError::QueueFull { depth: 2, .. })
    ));
    assert!(c.take(q, cid).unwrap().status.is_success());
    let done = v.arrived_at + sim_nvme::SimDuration(500);
    let reply = VendorReply {
        status: Status::SUCCESS,
        result: 7,
        payload: vec![0; 100],
        done_at: done,
    };
    let cid = c.complete_vendor(v, reply, 100);
    let comp = c.reap(q).unwrap();
    assert_eq!((comp.cid, comp.result, comp.submitted_at), (cid, 7, at));
    assert_eq!(comp.done_at, done, "prepaid reply bytes do not cross PCIe again");
    assert_eq!(c.outstanding(q), 0);
    // Outside the vendor range, dispatch completes with Invalid Command Opcode.
    let Ok(Dispatched::Completed(cid)) = c.dispatch(
        q,
        Command::Vendor {
            opcode: 0x90,
            payload: vec![],
        },
        at,
    ) else {
        panic!("a non-vendor unknown opcode is not handed back");
    };
    assert_eq!(c.take(q, cid).unwrap().status, Status::INVALID_OPCODE);
}

#[test]
fn commands_beyond_the_horizon_are_refused_and_the_controller_keeps_serving() {
    let (mut ctrl, q) = controller();
    for at in [
        SimTime(u64::MAX),
        SimTime(u64::MAX - 1),
        SimTime(SimTime::HORIZON.0 + 1),
    ] {
        let cmd = Command::Read {
            nsid: 1,
            lba: Lba(0),
            blocks: 1,
        };
        let e = ctrl.submit_and_wait(q, cmd, at).unwrap_err();
        assert!(
            matches!(e, sim_nvme::nvme::SubmitError::BeyondHorizon { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("horizon"), "{e}");
        assert_eq!(e.status(), Some(Status::INVALID_FIELD));
    }
    let c = ctrl
        .submit_and_wait(
            q,
            Command::Read {
                nsid: 1,
                lba: Lba(0),
                blocks: 1,
            },
            SimTime::HORIZON,
        )
        .expect("the horizon itself is fine");
    assert!(c.status.is_success());
    still_works(&mut ctrl, q);
}
