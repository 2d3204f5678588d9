//! A simulated fleet of ECS instances running Cloud Assistant agents, in
//! virtual time, seeded and deterministic.
//!
//! The fleet never reads the wall clock: [`Simulation::advance_to`] is the
//! only way time moves. Every random choice comes from a stream keyed by the
//! master seed and the identity of what is deciding ([`rng`]), so the same
//! seed and the same calls give the same outcome on any machine.

pub mod agent;
pub mod change;
pub mod error;
pub mod faults;
pub mod fs;
pub mod instance;
pub mod log;
pub mod rng;
pub mod sim;
pub mod spec;
pub mod store;

pub use change::FleetChange;
pub use error::FleetError;
pub use faults::{ApiFaultKind, ApiFaultRule, FaultRule, FaultScope};
pub use fs::FileData;
pub use log::LogEntry;
pub use sim::{PinnedIds, SimState, Simulation};
pub use spec::FleetSpec;
pub use store::{Page, Retention};
