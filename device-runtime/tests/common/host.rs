//! A host of the ISC tests: queue depth 1 on a [`Firmware`] over the `tiny` profile, with
//! its own simulated clock and a log of every completion.

use device_runtime::isc::{ErrorKind, Firmware, IscError, IscRequest, IscResponse, ModuleId, ModuleSource};
use device_runtime::runtime::{Runtime, RuntimeConfig};
use ndp_protocol::{AppConfig, AppId, ArgValue, InstanceId, Placement, ReceiverId, RunReport, SenderId};
use sim_nvme::nvme::{Command, QueueId, Status};
use sim_nvme::{DeviceProfile, SimTime};

/// A host at queue depth 1 with its own simulated clock.
pub struct Host {
    pub fw: Firmware,
    pub q: QueueId,
    pub now: SimTime,
    pub log: Vec<(Status, SimTime)>,
}

impl Host {
    pub fn new() -> Host {
        let rt = Runtime::in_memory(DeviceProfile::tiny(), RuntimeConfig::default()).unwrap();
        let mut fw = Firmware::new(rt, super::loader());
        let q = fw.create_io_queue(16).unwrap();
        Host {
            fw,
            q,
            now: SimTime::ZERO,
            log: Vec::new(),
        }
    }

    pub fn raw(&mut self, cmd: Command) -> sim_nvme::Completion {
        let c = self.fw.submit_and_wait(self.q, cmd, self.now).unwrap();
        assert!(c.done_at >= self.now);
        self.now = c.done_at;
        self.log.push((c.status, c.done_at));
        c
    }

    pub fn call(&mut self, req: IscRequest) -> Result<IscResponse, IscError> {
        let c = self.raw(req.to_command().unwrap());
        device_runtime::isc::response_of(&c)
    }

    pub fn ok(&mut self, req: IscRequest) -> IscResponse {
        match self.call(req.clone()) {
            Ok(r) => r,
            Err(e) => panic!("{req:?}: {e}"),
        }
    }

    pub fn refused(&mut self, req: IscRequest, kind: ErrorKind) -> String {
        match self.call(req) {
            Err(IscError::Refused { kind: k, message }) if k == kind => message,
            other => panic!("expected a {kind:?} refusal, got {other:?}"),
        }
    }

    pub fn load_testkit(&mut self) -> ModuleId {
        let path = super::modules().testkit();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        match self.ok(IscRequest::LoadModule {
            source: ModuleSource::Bytes { name, bytes },
        }) {
            IscResponse::Module(m) => {
                assert_eq!(m.meta.name, "testkit");
                m.id
            }
            r => panic!("{r:?}"),
        }
    }

    pub fn app(&mut self, name: &str) -> AppId {
        self.app_with(name, AppConfig::default())
    }

    pub fn app_with(&mut self, name: &str, config: AppConfig) -> AppId {
        match self.ok(IscRequest::CreateApp {
            name: name.into(),
            config,
        }) {
            IscResponse::App(a) => a,
            r => panic!("{r:?}"),
        }
    }

    pub fn spawn(&mut self, app: AppId, module: ModuleId, id: &str, args: Vec<ArgValue>) -> InstanceId {
        match self.ok(IscRequest::Spawn {
            app,
            module,
            ssdlet: id.into(),
            args,
            placement: Placement::RoundRobin,
        }) {
            IscResponse::Instance(i) => i,
            r => panic!("{r:?}"),
        }
    }

    pub fn connect(&mut self, from: InstanceId, output: &str, to: InstanceId, input: &str) {
        let r = self.ok(IscRequest::Connect {
            from,
            output: output.into(),
            to,
            input: input.into(),
        });
        assert_eq!(r, IscResponse::Done);
    }

    pub fn receiver(&mut self, from: InstanceId, output: &str) -> ReceiverId {
        match self.ok(IscRequest::HostReceiver {
            from,
            output: output.into(),
        }) {
            IscResponse::Receiver(r) => r,
            r => panic!("{r:?}"),
        }
    }

    pub fn sender(&mut self, to: InstanceId, input: &str) -> SenderId {
        match self.ok(IscRequest::HostSender {
            to,
            input: input.into(),
        }) {
            IscResponse::Sender(s) => s,
            r => panic!("{r:?}"),
        }
    }

    pub fn drain<T: serde::de::DeserializeOwned>(&mut self, port: ReceiverId) -> Vec<T> {
        let mut out = Vec::new();
        loop {
            match self.ok(IscRequest::Recv {
                port,
                max: 1000,
                block: false,
            }) {
                IscResponse::Messages { messages, end } => {
                    out.extend(messages.iter().map(|m| postcard::from_bytes(m).unwrap()));
                    if end {
                        return out;
                    }
                }
                r => panic!("{r:?}"),
            }
        }
    }

    pub fn wait(&mut self, app: AppId) -> RunReport {
        match self.ok(IscRequest::Wait { app, block: true }) {
            IscResponse::Report(r) => r,
            r => panic!("{r:?}"),
        }
    }
}
