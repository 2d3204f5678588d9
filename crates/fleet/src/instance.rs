//! One simulated instance at run time: its lifecycle state, its agent, its
//! accounts and its file system.

use std::collections::BTreeSet;

use casim_model::{ErrorCode, InvokeId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::FleetError;
use crate::fs::{FileData, FileSystem, Node};
use crate::spec::{AgentState, InstanceSpec, InstanceState, OsType};

/// An agent that has said nothing for this long is "not responding".
pub const HEARTBEAT_TIMEOUT_MS: u64 = 120_000;

/// The oldest agents that can take file tasks.
const MIN_LINUX_AGENT: [u64; 4] = [1, 0, 2, 569];
const MIN_WINDOWS_AGENT: [u64; 4] = [1, 0, 0, 149];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub spec: InstanceSpec,
    pub state: InstanceState,
    pub agent: AgentState,
    /// When a silent agent last answered.
    pub silent_since: Timestamp,
    pub agent_version: String,
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub fs: FileSystem,
    /// How many tasks this instance has been given; keys its random stream.
    pub tasks_given: u64,
    /// Tasks not yet finished here, so a release can end them.
    pub in_flight: BTreeSet<InvokeId>,
    /// When the last task was given to this instance.
    #[serde(default)]
    pub last_invoked: Option<Timestamp>,
    /// When the agent last changed state (stopped, started, ...), if ever.
    #[serde(default)]
    pub agent_since: Option<Timestamp>,
    /// How many times the agent stopped, fell silent or began an upgrade,
    /// or the instance stopped: an agent that held a task across one of
    /// these lost it.
    #[serde(default)]
    pub disruptions: u64,
    /// When the instance last changed state, if it has since loading.
    #[serde(default)]
    pub state_since: Option<Timestamp>,
    /// Room left on disk; `None` is unlimited.
    #[serde(default)]
    pub disk_free_bytes: Option<u64>,
}

/// What DescribeCloudAssistantStatus reports of one instance's agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReport {
    pub instance_id: casim_model::InstanceId,
    /// Heartbeating within the last two minutes on a running instance.
    pub cloud_assistant_status: bool,
    pub version: String,
    pub active_task_count: u64,
    pub invocation_count: u64,
    pub last_invoked_time: Option<Timestamp>,
    pub last_heartbeat_time: Option<Timestamp>,
    pub os_type: OsType,
    pub support_session_manager: bool,
}

impl Instance {
    pub fn from_spec(spec: &InstanceSpec) -> Result<Instance, FleetError> {
        let invalid = |reason: String| FleetError::InvalidInstance {
            id: spec.id.clone(),
            reason,
        };
        if spec.id.as_str().is_empty() {
            return Err(invalid("the instance id is empty".to_owned()));
        }
        if spec.region.as_str().is_empty() {
            return Err(invalid("the region is empty".to_owned()));
        }
        spec.timing.check().map_err(invalid)?;
        if parse_version(&spec.agent.version).is_none() {
            return Err(invalid(format!(
                "agent version `{}` is not dotted numbers like `2.2.3.256`",
                spec.agent.version
            )));
        }
        let (default_user, default_group) = match spec.os {
            OsType::Linux => ("root", "root"),
            OsType::Windows => ("Administrator", "Administrators"),
        };
        let users = spec
            .users
            .clone()
            .unwrap_or_else(|| vec![default_user.to_owned()]);
        let groups = spec
            .groups
            .clone()
            .unwrap_or_else(|| vec![default_group.to_owned()]);

        let mut fs = FileSystem::new(spec.os);
        for dir in &spec.directories {
            fs.mkdir_all(dir)
                .map_err(|_| invalid(format!("directory `{dir}` cannot be created")))?;
        }
        for file in &spec.files {
            let key = fs
                .normalise(&file.path)
                .ok_or_else(|| invalid(format!("file path `{}` is not absolute", file.path)))?;
            match fs.get(&key) {
                Some(Node::Dir) => {
                    return Err(invalid(format!("file `{}` is a directory", file.path)));
                }
                Some(Node::File(_)) => {
                    return Err(invalid(format!("file `{}` is listed twice", file.path)));
                }
                None => {}
            }
            if !crate::fs::is_octal_mode(&file.mode) {
                return Err(invalid(format!(
                    "file `{}` has mode `{}`; give three or four octal digits like `0644`",
                    file.path, file.mode
                )));
            }
            let parent = crate::fs::parent_of(&key, spec.os);
            fs.mkdir_all(&parent)
                .map_err(|_| invalid(format!("file `{}` is inside a file", file.path)))?;
            fs.write(
                key,
                FileData {
                    bytes: file.content.as_bytes().to_vec(),
                    mode: file.mode.clone(),
                    owner: file.owner.clone(),
                    group: file.group.clone(),
                },
            );
        }

        Ok(Instance {
            spec: spec.clone(),
            state: spec.state,
            agent: spec.agent.state,
            silent_since: spec.agent.silent_since.unwrap_or(Timestamp::MIN),
            agent_version: spec.agent.version.clone(),
            users: users.into_iter().collect(),
            groups: groups.into_iter().collect(),
            fs,
            tasks_given: 0,
            in_flight: BTreeSet::new(),
            last_invoked: None,
            agent_since: None,
            disk_free_bytes: spec.disk_free_bytes,
            state_since: None,
            disruptions: 0,
        })
    }

    pub fn os(&self) -> OsType {
        self.spec.os
    }

    /// Why a task cannot be handed to this instance's agent right now, in
    /// the order the service checks (DESIGN.md, "Dispatch").
    pub fn refuses_dispatch(&self, now: Timestamp) -> Option<ErrorCode> {
        match self.state {
            InstanceState::Running => {}
            InstanceState::Released => return Some(ErrorCode::InstanceNotExists),
            _ => return Some(ErrorCode::InstanceNotRunning),
        }
        match self.agent {
            AgentState::Running => {}
            AgentState::Stopped => return Some(ErrorCode::ClientNotRunning),
            AgentState::Silent => {
                let silent_for = now
                    .as_millis()
                    .saturating_sub(self.silent_since.as_millis());
                if silent_for > HEARTBEAT_TIMEOUT_MS as i64 {
                    return Some(ErrorCode::ClientNotResponse);
                }
            }
            AgentState::Upgrading => return Some(ErrorCode::ClientIsUpgrading),
        }
        let minimum = match self.os() {
            OsType::Linux => MIN_LINUX_AGENT,
            OsType::Windows => MIN_WINDOWS_AGENT,
        };
        // The version was checked when the instance was loaded or changed.
        let version = parse_version(&self.agent_version).unwrap_or_default();
        (version < minimum.to_vec()).then_some(ErrorCode::ClientNeedUpgrade)
    }

    /// The agent as DescribeCloudAssistantStatus shows it at `now`.
    pub fn report(&self, now: Timestamp) -> AgentReport {
        // A running agent heartbeats about once a minute.
        let minute = now.as_millis() - now.as_millis().rem_euclid(60_000);
        let since = self.agent_since.unwrap_or(Timestamp::MIN);
        let last_heartbeat = match self.agent {
            // A stopped instance's agent went quiet when the instance stopped.
            _ if self.state != InstanceState::Running => self.state_since,
            AgentState::Running | AgentState::Upgrading => {
                Some(Timestamp::from_millis(minute).max(since))
            }
            AgentState::Silent => Some(self.silent_since).filter(|t| *t > Timestamp::MIN),
            AgentState::Stopped => self.agent_since,
        };
        let heard_recently = match self.agent {
            AgentState::Running | AgentState::Upgrading => true,
            AgentState::Silent => {
                now.as_millis()
                    .saturating_sub(self.silent_since.as_millis())
                    <= HEARTBEAT_TIMEOUT_MS as i64
            }
            AgentState::Stopped => false,
        };
        let online = self.state == InstanceState::Running && heard_recently;
        let session_minimum = match self.os() {
            OsType::Linux => [2, 2, 3, 189],
            OsType::Windows => [2, 1, 3, 189],
        };
        let version = parse_version(&self.agent_version).unwrap_or_default();
        AgentReport {
            instance_id: self.spec.id.clone(),
            cloud_assistant_status: online,
            version: if online {
                self.agent_version.clone()
            } else {
                String::new()
            },
            active_task_count: self.in_flight.len() as u64,
            invocation_count: self.tasks_given,
            last_invoked_time: self.last_invoked,
            last_heartbeat_time: last_heartbeat,
            os_type: self.os(),
            support_session_manager: version >= session_minimum.to_vec(),
        }
    }

    /// Whether the agent can finish a task it holds: it must be running and
    /// answering on a running instance.
    pub fn can_finish_tasks(&self) -> bool {
        self.state == InstanceState::Running && self.agent == AgentState::Running
    }
}

/// `2.2.3.256` as numbers; `None` unless every part is a number.
pub fn parse_version(text: &str) -> Option<Vec<u64>> {
    text.split('.')
        .map(|part| part.parse::<u64>().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |t: &str| parse_version(t).unwrap();
        assert!(v("1.0.2.568") < MIN_LINUX_AGENT.to_vec());
        assert!(v("1.0.2.569") >= MIN_LINUX_AGENT.to_vec());
        assert!(v("1.0.10.1") > MIN_LINUX_AGENT.to_vec());
        assert!(v("2") > MIN_LINUX_AGENT.to_vec());
        assert_eq!(parse_version("1.x"), None);
    }
}
