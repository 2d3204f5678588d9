//! The fleet file: which instances exist, in what state, with which agent,
//! users, files and timing. Written by people (TOML in scenarios, JSON over
//! the control API), so unknown fields are refused by name rather than
//! silently ignored.
//!
//! The schema already carries what later work scopes and filters by (tags,
//! resource and instance groups, OS) even where the simulator does not use
//! a field yet.

use std::collections::BTreeMap;

use casim_model::{InstanceId, RegionId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::change::FleetChange;
use crate::faults::{ApiFaultRule, FaultRule};

/// Version of the fleet and state schema; bumped on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    /// Timing for every instance that does not say otherwise.
    #[serde(default)]
    pub timing: Timing,
    /// Timing per instance group (`InstanceSpec::instance_group`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instance_groups: BTreeMap<String, Timing>,
    #[serde(default)]
    pub instances: Vec<InstanceSpec>,
    /// Per-instance faults in force from the start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultRule>,
    /// API faults in force from the start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_faults: Vec<ApiFaultRule>,
    /// Fleet changes that happen by themselves at given virtual times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduledChange>,
}

/// A fleet change due at a virtual time.
///
/// Not `deny_unknown_fields`: serde does not support it beside `flatten`
/// (every flattened field would be refused as unknown). The flattened
/// [`FleetChange`] refuses unknown fields itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledChange {
    pub at: Timestamp,
    #[serde(flatten)]
    pub change: FleetChange,
}

/// Delays of a task's two phases. A field left out falls back to the
/// instance group's, then the fleet's, then [`Timing::BUILT_IN`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// From the task's creation until the agent is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_delay: Option<Delay>,
    /// From dispatch until the agent has written the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_duration: Option<Delay>,
}

impl Timing {
    /// Refuses a delay whose bounds are the wrong way round.
    pub fn check(&self) -> Result<(), String> {
        for (name, delay) in [
            ("dispatch_delay", self.dispatch_delay),
            ("write_duration", self.write_duration),
        ] {
            if let Some(delay) = delay {
                if delay.min_ms > delay.max_ms {
                    return Err(format!(
                        "{name} has min_ms {} above max_ms {}",
                        delay.min_ms, delay.max_ms
                    ));
                }
            }
        }
        Ok(())
    }

    /// Real deliveries take about a second or two end to end.
    pub const BUILT_IN_DISPATCH: Delay = Delay {
        min_ms: 200,
        max_ms: 1_500,
    };
    pub const BUILT_IN_WRITE: Delay = Delay {
        min_ms: 100,
        max_ms: 1_000,
    };
}

/// A duration drawn uniformly from `min_ms..=max_ms` (equal bounds give a
/// fixed delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delay {
    pub min_ms: u64,
    pub max_ms: u64,
}

/// One ECS instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    pub id: InstanceId,
    #[serde(default = "default_region")]
    pub region: RegionId,
    /// The instance's display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default)]
    pub os: OsType,
    #[serde(default)]
    pub state: InstanceState,
    #[serde(default)]
    pub agent: AgentSpec,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_group: Option<String>,
    /// Accounts on the instance; `root` (Linux) or `Administrator`
    /// (Windows) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// Groups on the instance; `root` (Linux) or `Administrators` (Windows)
    /// when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Directories that exist besides the parents of `files` and the
    /// system's own (`/`, `/root`, `/tmp`, `/etc`, ... or `C:\`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ExistingFile>,
    #[serde(default, skip_serializing_if = "is_default_timing")]
    pub timing: Timing,
    /// Bytes the disk can still take; left out, unlimited. A write that
    /// does not fit fails `FileCreateFail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_free_bytes: Option<u64>,
}

fn default_region() -> RegionId {
    RegionId::from("cn-hangzhou")
}

fn is_default_timing(timing: &Timing) -> bool {
    timing == &Timing::default()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsType {
    #[default]
    Linux,
    Windows,
}

impl OsType {
    /// As the API spells it in `OSType`.
    pub fn as_str(self) -> &'static str {
        match self {
            OsType::Linux => "Linux",
            OsType::Windows => "Windows",
        }
    }
}

/// The ECS instance lifecycle states that matter to delivery, spelled as
/// ECS spells them (`Running`); the lower-case spelling used elsewhere in
/// fleet files (`running`) is accepted too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstanceState {
    #[default]
    #[serde(alias = "running")]
    Running,
    #[serde(alias = "starting")]
    Starting,
    #[serde(alias = "stopping")]
    Stopping,
    #[serde(alias = "stopped")]
    Stopped,
    /// Gone: sends that name it answer `InstanceNotExists`.
    #[serde(alias = "released")]
    Released,
}

/// The Cloud Assistant agent on an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    #[serde(default)]
    pub state: AgentState,
    /// For a `silent` agent: when it last answered. Left out, long ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent_since: Option<Timestamp>,
    #[serde(default = "default_agent_version")]
    pub version: String,
}

impl Default for AgentSpec {
    fn default() -> AgentSpec {
        AgentSpec {
            state: AgentState::default(),
            silent_since: None,
            version: default_agent_version(),
        }
    }
}

fn default_agent_version() -> String {
    "2.2.3.256".to_owned()
}

/// What the agent is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    /// Heartbeating and taking tasks.
    #[default]
    Running,
    /// The service is stopped: tasks are refused with `ClientNotRunning`.
    Stopped,
    /// The process is there but has answered nothing since `silent_since`:
    /// a task reaches it and never finishes; after two minutes of silence
    /// new tasks are refused with `ClientNotResponse`.
    Silent,
    /// Replacing itself: tasks are refused with `ClientIsUpgrading`.
    Upgrading,
}

/// A file already on the instance before any send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingFile {
    /// Absolute path.
    pub path: String,
    /// Text content.
    #[serde(default)]
    pub content: String,
    #[serde(default = "default_mode")]
    pub mode: String,
    #[serde(default = "default_account")]
    pub owner: String,
    #[serde(default = "default_account")]
    pub group: String,
}

fn default_mode() -> String {
    "0644".to_owned()
}

fn default_account() -> String {
    "root".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_reads_and_refuses_unknown_fields() {
        let fleet = r#"
            instances = [{ id = "i-1" }]
            [[schedule]]
            at = "2024-05-15T09:00:00Z"
            change = "end_agent_upgrade"
            instance_id = "i-1"
            version = "2.2.3.309"
        "#;
        let spec: FleetSpec = toml::from_str(fleet).expect("a schedule loads");
        assert_eq!(
            spec.schedule[0].change,
            FleetChange::EndAgentUpgrade {
                instance_id: InstanceId::from("i-1"),
                version: Some("2.2.3.309".to_owned()),
            }
        );
        let typo = fleet.replace("version", "verison");
        let error = toml::from_str::<FleetSpec>(&typo).expect_err("a typo is refused");
        assert!(error.to_string().contains("verison"), "{error}");
    }
}
