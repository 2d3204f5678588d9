//! Changes to a running fleet, made by a scenario step or the control API at
//! the current virtual time.

use casim_model::InstanceId;
use serde::{Deserialize, Serialize};

/// One change to the fleet. On the wire and in scenario files the variant is
/// named by the `change` field: `{"change": "stop_agent", "instance_id": "i-1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case", deny_unknown_fields)]
pub enum FleetChange {
    /// The agent's service stops; new tasks fail `ClientNotRunning`, tasks
    /// already running on it never finish and time out.
    StopAgent {
        instance_id: InstanceId,
    },
    /// The agent's service starts again.
    StartAgent {
        instance_id: InstanceId,
    },
    /// The agent stops answering without stopping.
    SilenceAgent {
        instance_id: InstanceId,
    },
    /// The agent starts replacing itself.
    BeginAgentUpgrade {
        instance_id: InstanceId,
    },
    /// The agent finishes its upgrade and runs `version`, if given.
    EndAgentUpgrade {
        instance_id: InstanceId,
        #[serde(default)]
        version: Option<String>,
    },
    StopInstance {
        instance_id: InstanceId,
    },
    StartInstance {
        instance_id: InstanceId,
    },
    /// The instance is gone for good.
    ReleaseInstance {
        instance_id: InstanceId,
    },
    /// A file appears on the instance (its parent directories too).
    AddFile {
        instance_id: InstanceId,
        path: String,
        #[serde(default)]
        content: String,
        #[serde(default = "default_mode")]
        mode: String,
        #[serde(default = "default_account")]
        owner: String,
        #[serde(default = "default_account")]
        group: String,
    },
    /// A file or an empty directory disappears from the instance.
    RemoveFile {
        instance_id: InstanceId,
        path: String,
    },
    /// An account appears on the instance.
    AddUser {
        instance_id: InstanceId,
        user: String,
    },
    RemoveUser {
        instance_id: InstanceId,
        user: String,
    },
    AddGroup {
        instance_id: InstanceId,
        group: String,
    },
    RemoveGroup {
        instance_id: InstanceId,
        group: String,
    },
    /// The disk has no room left: writes fail `FileCreateFail`.
    FillDisk {
        instance_id: InstanceId,
    },
    /// The disk has `bytes` free again (unlimited when left out).
    FreeDisk {
        instance_id: InstanceId,
        #[serde(default)]
        bytes: Option<u64>,
    },
}

impl FleetChange {
    pub fn instance_id(&self) -> &InstanceId {
        match self {
            FleetChange::StopAgent { instance_id }
            | FleetChange::StartAgent { instance_id }
            | FleetChange::SilenceAgent { instance_id }
            | FleetChange::BeginAgentUpgrade { instance_id }
            | FleetChange::EndAgentUpgrade { instance_id, .. }
            | FleetChange::StopInstance { instance_id }
            | FleetChange::StartInstance { instance_id }
            | FleetChange::ReleaseInstance { instance_id }
            | FleetChange::AddFile { instance_id, .. }
            | FleetChange::RemoveFile { instance_id, .. }
            | FleetChange::AddUser { instance_id, .. }
            | FleetChange::RemoveUser { instance_id, .. }
            | FleetChange::AddGroup { instance_id, .. }
            | FleetChange::RemoveGroup { instance_id, .. }
            | FleetChange::FillDisk { instance_id }
            | FleetChange::FreeDisk { instance_id, .. } => instance_id,
        }
    }
}

fn default_mode() -> String {
    "0644".to_owned()
}

fn default_account() -> String {
    "root".to_owned()
}
