//! Changes to the fleet, now or scheduled.

use super::*;

impl Simulation {
    /// Schedules `change` at `at` (now, if `at` has passed).
    pub fn schedule_change(
        &mut self,
        at: Timestamp,
        change: FleetChange,
    ) -> Result<(), FleetError> {
        self.check_change(&change)?;
        self.schedule(at.max(self.now), Event::Change(change));
        Ok(())
    }

    /// Refuses a change that could never apply: checked when a change is
    /// scheduled, so it is not silently dropped when it falls due, and again
    /// when it applies.
    fn check_change(&self, change: &FleetChange) -> Result<(), FleetError> {
        let id = change.instance_id();
        let instance = self
            .instances
            .get(id)
            .ok_or_else(|| FleetError::UnknownInstance { id: id.clone() })?;
        let invalid = |reason: String| FleetError::InvalidInstance {
            id: id.clone(),
            reason,
        };
        if instance.state == InstanceState::Released {
            return Err(invalid("the instance is released".to_owned()));
        }
        match change {
            FleetChange::EndAgentUpgrade {
                version: Some(version),
                ..
            } if parse_version(version).is_none() => Err(invalid(format!(
                "agent version `{version}` is not dotted numbers"
            ))),
            FleetChange::AddFile { path, mode, .. } => {
                if instance.fs.normalise(path).is_none() {
                    return Err(invalid(format!("path `{path}` is not absolute")));
                }
                if !crate::fs::is_octal_mode(mode) {
                    return Err(invalid(format!(
                        "mode `{mode}`: give three or four octal digits like `0644`"
                    )));
                }
                Ok(())
            }
            FleetChange::RemoveFile { path, .. } if instance.fs.normalise(path).is_none() => {
                Err(invalid(format!("path `{path}` is not absolute")))
            }
            _ => Ok(()),
        }
    }

    /// Applies a change to the fleet now.
    pub fn apply(&mut self, change: &FleetChange) -> Result<(), FleetError> {
        // The same checks a scheduled change passed when it was accepted:
        // the instance may have been released since.
        self.check_change(change)?;
        let now = self.now;
        let id = change.instance_id().clone();
        let instance = self
            .instances
            .get_mut(&id)
            .ok_or_else(|| FleetError::UnknownInstance { id: id.clone() })?;
        let invalid = |reason: String| FleetError::InvalidInstance {
            id: id.clone(),
            reason,
        };

        let message = match change {
            FleetChange::StopAgent { .. } => {
                instance.agent = AgentState::Stopped;
                instance.disruptions = instance.disruptions.saturating_add(1);
                instance.agent_since = Some(now);
                format!("agent on {id} stopped")
            }
            FleetChange::StartAgent { .. } | FleetChange::EndAgentUpgrade { version: None, .. } => {
                instance.agent = AgentState::Running;
                instance.agent_since = Some(now);
                format!("agent on {id} running")
            }
            FleetChange::SilenceAgent { .. } => {
                instance.agent = AgentState::Silent;
                instance.disruptions = instance.disruptions.saturating_add(1);
                instance.agent_since = Some(now);
                instance.silent_since = now;
                format!("agent on {id} went silent")
            }
            FleetChange::BeginAgentUpgrade { .. } => {
                instance.agent = AgentState::Upgrading;
                instance.disruptions = instance.disruptions.saturating_add(1);
                instance.agent_since = Some(now);
                format!("agent on {id} began upgrading")
            }
            FleetChange::EndAgentUpgrade {
                version: Some(version),
                ..
            } => {
                instance.agent = AgentState::Running;
                instance.agent_since = Some(now);
                instance.agent_version = version.clone();
                format!("agent on {id} upgraded to {version}")
            }
            FleetChange::StopInstance { .. } => {
                instance.state = InstanceState::Stopped;
                instance.disruptions = instance.disruptions.saturating_add(1);
                instance.state_since = Some(now);
                format!("instance {id} stopped")
            }
            FleetChange::StartInstance { .. } => {
                instance.state = InstanceState::Running;
                instance.state_since = Some(now);
                format!("instance {id} started")
            }
            FleetChange::ReleaseInstance { .. } => {
                instance.state = InstanceState::Released;
                instance.state_since = Some(now);
                let in_flight = std::mem::take(&mut instance.in_flight);
                for invoke_id in &in_flight {
                    self.finish_task(
                        invoke_id,
                        &id,
                        Err(ErrorCode::InstanceReleased),
                        "released while the task was in flight",
                    );
                }
                format!("instance {id} released")
            }
            FleetChange::AddFile {
                path,
                content,
                mode,
                owner,
                group,
                ..
            } => {
                let os = instance.os();
                let key = instance
                    .fs
                    .normalise(path)
                    .ok_or_else(|| invalid(format!("path `{path}` is not absolute")))?;
                if let Some(Node::Dir) = instance.fs.get(&key) {
                    return Err(invalid(format!("path `{path}` is a directory")));
                }
                instance
                    .fs
                    .mkdir_all(&parent_of(&key, os))
                    .map_err(|_| invalid(format!("path `{path}` is inside a file")))?;
                let data = FileData {
                    bytes: content.as_bytes().to_vec(),
                    mode: mode.clone(),
                    owner: owner.clone(),
                    group: group.clone(),
                };
                instance.fs.write(key, data);
                format!("file {path} appeared on {id}")
            }
            FleetChange::AddUser { user, .. } => {
                instance.users.insert(user.clone());
                format!("user {user} added on {id}")
            }
            FleetChange::RemoveUser { user, .. } => {
                instance.users.remove(user);
                format!("user {user} removed from {id}")
            }
            FleetChange::AddGroup { group, .. } => {
                instance.groups.insert(group.clone());
                format!("group {group} added on {id}")
            }
            FleetChange::RemoveGroup { group, .. } => {
                instance.groups.remove(group);
                format!("group {group} removed from {id}")
            }
            FleetChange::FillDisk { .. } => {
                instance.disk_free_bytes = Some(0);
                format!("disk of {id} is full")
            }
            FleetChange::FreeDisk { bytes, .. } => {
                instance.disk_free_bytes = *bytes;
                match bytes {
                    Some(bytes) => format!("disk of {id} has {bytes} bytes free"),
                    None => format!("disk of {id} has room again"),
                }
            }
            FleetChange::RemoveFile { path, .. } => {
                if !instance.fs.remove(path) {
                    return Err(invalid(format!("no file or empty directory `{path}`")));
                }
                format!("file {path} removed from {id}")
            }
        };
        self.log.record(now, message);
        Ok(())
    }
}
