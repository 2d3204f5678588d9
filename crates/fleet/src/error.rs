//! Errors of the fleet's own inputs: fleet files and changes. (Errors of API
//! requests are `casim_model::ApiError`.)

use casim_model::InstanceId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    #[error("instance {id}: {reason}")]
    InvalidInstance { id: InstanceId, reason: String },
    #[error("instance {id} appears more than once in the fleet")]
    DuplicateInstance { id: InstanceId },
    #[error("no instance {id} in the fleet")]
    UnknownInstance { id: InstanceId },
    #[error("invalid fleet: {0}")]
    InvalidFleet(String),
    #[error("cannot pin: {0}")]
    InvalidPin(String),
    #[error("invalid fault: {0}")]
    InvalidFault(String),
    #[error("the state has schema version {found}; this build reads version {expected}")]
    SchemaVersion { found: u32, expected: u32 },
}
