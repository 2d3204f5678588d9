//! Success bodies on the wire. Field names, nesting and order follow the
//! documentation's samples: lists are a wrapper object holding an array named
//! after the item (`Invocations.Invocation[]`), integers are JSON integers,
//! `Overwrite` is a JSON boolean, and empty `ErrorCode`/`ErrorInfo` and unset
//! times are empty strings.

use serde::Serialize;

use crate::ids::{InvokeId, RequestId};
use crate::record::{InstanceResult, InvocationRecord};
use crate::timestamp::Timestamp;

/// `SendFile`'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendFileResponse {
    pub request_id: RequestId,
    pub invoke_id: InvokeId,
}

/// `DescribeSendFileResults`' answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSendFileResultsResponse {
    pub total_count: u64,
    pub request_id: RequestId,
    pub page_size: u64,
    pub page_number: u64,
    /// Present only in token paging, where it is empty on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub invocations: Invocations,
}

#[derive(Debug, Clone, Serialize)]
pub struct Invocations {
    #[serde(rename = "Invocation")]
    pub items: Vec<Invocation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Invocation {
    pub file_mode: String,
    pub overwrite: bool,
    pub invocation_status: &'static str,
    pub description: String,
    pub content_type: &'static str,
    pub vm_count: u32,
    pub target_dir: String,
    pub file_group: String,
    pub file_owner: String,
    pub invoke_instances: InvokeInstances,
    pub name: String,
    pub content: String,
    pub creation_time: String,
    pub invoke_id: InvokeId,
    /// Only on records created with tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tags {
    #[serde(rename = "Tag")]
    pub items: Vec<TagItem>,
}

/// A tag as responses spell it (requests say `Key`/`Value`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagItem {
    pub tag_key: String,
    pub tag_value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvokeInstances {
    #[serde(rename = "InvokeInstance")]
    pub items: Vec<InvokeInstance>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeInstance {
    pub invocation_status: &'static str,
    pub finish_time: String,
    pub instance_id: String,
    pub error_info: &'static str,
    pub creation_time: String,
    pub start_time: String,
    pub update_time: String,
    pub error_code: &'static str,
}

impl From<&InvocationRecord> for Invocation {
    fn from(record: &InvocationRecord) -> Invocation {
        let file = &record.file;
        Invocation {
            file_mode: file.file_mode.clone(),
            overwrite: file.overwrite,
            invocation_status: record.status().as_str(),
            description: file.description.clone(),
            content_type: file.content_type.as_str(),
            vm_count: u32::try_from(record.instances.len()).unwrap_or(u32::MAX),
            target_dir: file.target_dir.clone(),
            file_group: file.file_group.clone(),
            file_owner: file.file_owner.clone(),
            invoke_instances: InvokeInstances {
                items: record.instances.iter().map(InvokeInstance::from).collect(),
            },
            name: file.name.clone(),
            content: file.content.clone(),
            creation_time: record.creation_time.to_string(),
            invoke_id: record.invoke_id.clone(),
            tags: (!record.tags.is_empty()).then(|| Tags {
                items: record
                    .tags
                    .iter()
                    .map(|tag| TagItem {
                        tag_key: tag.key.clone(),
                        tag_value: tag.value.clone(),
                    })
                    .collect(),
            }),
        }
    }
}

impl From<&InstanceResult> for InvokeInstance {
    fn from(result: &InstanceResult) -> InvokeInstance {
        InvokeInstance {
            invocation_status: result.status.as_str(),
            finish_time: optional_time(result.finish_time),
            instance_id: result.instance_id.to_string(),
            error_info: result.error_code.map_or("", |code| code.error_info()),
            creation_time: result.creation_time.to_string(),
            start_time: optional_time(result.start_time),
            update_time: result.update_time.to_string(),
            error_code: result.error_code.map_or("", |code| code.as_str()),
        }
    }
}

fn optional_time(time: Option<Timestamp>) -> String {
    time.map(|t| t.to_string()).unwrap_or_default()
}

/// `DescribeCloudAssistantStatus`' answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCloudAssistantStatusResponse {
    pub total_count: u64,
    pub request_id: RequestId,
    pub page_size: u64,
    pub page_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub instance_cloud_assistant_status_set: InstanceCloudAssistantStatusSet,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceCloudAssistantStatusSet {
    #[serde(rename = "InstanceCloudAssistantStatus")]
    pub items: Vec<InstanceCloudAssistantStatus>,
}

/// One instance's agent as the service sees it. The SDK models spell it
/// `CloudAssistantStatus` (old samples misspell it; we follow the SDKs).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceCloudAssistantStatus {
    pub instance_id: String,
    /// `"true"` or `"false"`: a string, not a boolean.
    pub cloud_assistant_status: &'static str,
    pub cloud_assistant_version: String,
    pub active_task_count: u64,
    pub invocation_count: u64,
    pub last_invoked_time: String,
    pub last_heartbeat_time: String,
    #[serde(rename = "OSType")]
    pub os_type: &'static str,
    pub support_session_manager: bool,
}
