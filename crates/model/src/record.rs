//! The stored form of a file-sending task: what was asked, when, and where
//! each instance's copy of it stands. Plain data, so the whole store can be
//! exported and imported.

use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::ids::{InstanceId, InvokeId, RegionId};
use crate::request::FileSpec;
use crate::status::{InstanceStatus, InvocationStatus};
use crate::tags::Tag;
use crate::timestamp::Timestamp;

/// One `SendFile` as the service remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationRecord {
    pub invoke_id: InvokeId,
    pub region_id: RegionId,
    pub creation_time: Timestamp,
    pub timeout_seconds: u64,
    pub file: FileSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// In the order the request listed the instances.
    pub instances: Vec<InstanceResult>,
}

impl InvocationRecord {
    /// The overall status, derived from the instances' each time so it can
    /// never disagree with them.
    pub fn status(&self) -> InvocationStatus {
        InvocationStatus::roll_up(self.instances.iter().map(|i| i.status))
    }

    /// Whether every instance has reached its outcome; such a record never
    /// changes again.
    pub fn is_finished(&self) -> bool {
        self.instances.iter().all(|i| i.status.is_terminal())
    }

    pub fn instance(&self, id: &InstanceId) -> Option<&InstanceResult> {
        self.instances.iter().find(|i| &i.instance_id == id)
    }
}

/// One instance's copy of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceResult {
    pub instance_id: InstanceId,
    pub status: InstanceStatus,
    pub error_code: Option<ErrorCode>,
    pub creation_time: Timestamp,
    /// When the agent began the task; `None` if it never did.
    pub start_time: Option<Timestamp>,
    /// When the task reached a terminal status.
    pub finish_time: Option<Timestamp>,
    /// The last status change.
    pub update_time: Timestamp,
}

impl InstanceResult {
    /// A task just created on an instance.
    pub fn pending(instance_id: InstanceId, now: Timestamp) -> InstanceResult {
        InstanceResult {
            instance_id,
            status: InstanceStatus::Pending,
            error_code: None,
            creation_time: now,
            start_time: None,
            finish_time: None,
            update_time: now,
        }
    }

    /// The agent took the task.
    pub fn start(&mut self, now: Timestamp) {
        self.status = InstanceStatus::Running;
        self.start_time = Some(now);
        self.update_time = now;
    }

    /// The file was written.
    pub fn succeed(&mut self, now: Timestamp) {
        self.finish(InstanceStatus::Success, None, now);
    }

    /// The task failed with `code`, in the status the code implies.
    pub fn fail(&mut self, code: ErrorCode, now: Timestamp) {
        self.finish(code.status(), Some(code), now);
    }

    fn finish(&mut self, status: InstanceStatus, code: Option<ErrorCode>, now: Timestamp) {
        self.status = status;
        self.error_code = code;
        self.finish_time = Some(now);
        self.update_time = now;
    }
}
