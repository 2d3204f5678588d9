//! The two actions' requests, read from [`Params`] and checked as far as the
//! API can check without looking at an instance (DESIGN.md, "Checked at the
//! API"). What only the instance can judge (an empty name, a mode of the
//! wrong length, an existing file) is left to the fleet.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::ids::{InstanceId, InvokeId, RegionId};
use crate::params::Params;
use crate::status::InvocationStatus;
use crate::tags::{self, Tag};

/// At most this many instances per SendFile.
pub const MAX_INSTANCES: usize = 50;
/// `Name` limit, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// `TargetDir` limit, in characters.
pub const MAX_TARGET_DIR_CHARS: usize = 255;
/// `Description` limit, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 512;
/// `Content` limit: 32 KB measured after Base64 encoding, also for PlainText.
pub const MAX_CONTENT_BASE64_BYTES: usize = 32_768;
/// `FileOwner` and `FileGroup` limit, in characters.
pub const MAX_ACCOUNT_CHARS: usize = 64;
/// `Timeout` bounds in seconds: smaller values are raised, larger refused.
pub const MIN_TIMEOUT_SECONDS: u64 = 10;
pub const MAX_TIMEOUT_SECONDS: u64 = 86_400;
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;
/// `ClientToken` limit: ASCII, at most 64 characters.
pub const MAX_CLIENT_TOKEN_CHARS: usize = 64;
/// Page sizes for both paging styles.
pub const MAX_PAGE_SIZE: u64 = 50;
pub const DEFAULT_PAGE_SIZE: u64 = 10;

/// Base64 as the agent's Go `base64.StdEncoding` reads it: the standard
/// alphabet with padding, non-zero trailing bits allowed, and line breaks
/// skipped (the decoder ignores `\r` and `\n`).
const AGENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Decodes Base64 `Content` the way the agent does.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    if text.contains(['\r', '\n']) {
        let joined: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        AGENT_BASE64.decode(joined).ok()
    } else {
        AGENT_BASE64.decode(text).ok()
    }
}

/// How `Content` is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContentType {
    #[default]
    PlainText,
    Base64,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::PlainText => "PlainText",
            ContentType::Base64 => "Base64",
        }
    }

    fn parse(word: &str) -> Option<ContentType> {
        match word {
            "PlainText" => Some(ContentType::PlainText),
            "Base64" => Some(ContentType::Base64),
            _ => None,
        }
    }
}

/// What is to be written, and how: the file half of a SendFile, kept whole
/// in the record and echoed by DescribeSendFileResults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    pub name: String,
    pub target_dir: String,
    /// Exactly as sent; see [`FileSpec::bytes`] for what lands on disk.
    pub content: String,
    pub content_type: ContentType,
    pub file_mode: String,
    pub file_owner: String,
    pub file_group: String,
    pub overwrite: bool,
    pub description: String,
}

impl FileSpec {
    /// The bytes the agent writes, or `None` when Base64 content does not
    /// decode (the API refuses such requests, so a record never has it).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self.content_type {
            ContentType::PlainText => Some(self.content.as_bytes().to_vec()),
            ContentType::Base64 => decode_base64(&self.content),
        }
    }
}

/// A validated `SendFile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFileRequest {
    pub region_id: RegionId,
    pub instance_ids: Vec<InstanceId>,
    pub file: FileSpec,
    pub timeout_seconds: u64,
    /// Every instance must belong to this resource group; the record keeps
    /// it for the `ResourceGroupId` filter.
    pub resource_group_id: Option<String>,
    pub tags: Vec<Tag>,
    /// Idempotency token: a repeated SendFile with the same token answers
    /// the first call's `InvokeId` and creates nothing.
    pub client_token: Option<String>,
}

impl SendFileRequest {
    pub fn from_params(params: &Params) -> Result<SendFileRequest, ApiError> {
        let region_id = params.required("RegionId")?;
        let instance_ids = params.list("InstanceId");
        if instance_ids.is_empty() {
            return Err(ApiError::MissingInstanceId);
        }
        let name = params.required("Name")?;
        let target_dir = params.required("TargetDir")?;
        let content = params.required("Content")?;

        if instance_ids.len() > MAX_INSTANCES {
            return Err(ApiError::InstanceIdsExceedLimit);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(ApiError::FileNameExceedLimit);
        }
        if target_dir.is_empty() || target_dir.chars().count() > MAX_TARGET_DIR_CHARS {
            return Err(ApiError::FileTargetDirInvalid);
        }
        let content_type = match params.non_empty("ContentType") {
            None => ContentType::PlainText,
            Some(word) => ContentType::parse(word).ok_or(ApiError::FileContentTypeInvalid)?,
        };
        let base64_len = match content_type {
            ContentType::PlainText => content.len().div_ceil(3) * 4,
            ContentType::Base64 => content.len(),
        };
        if base64_len > MAX_CONTENT_BASE64_BYTES {
            return Err(ApiError::FileSizeExceedLimit);
        }
        if content_type == ContentType::Base64 && decode_base64(content).is_none() {
            return Err(ApiError::FileContentDecodeError);
        }
        let file_mode = params.non_empty("FileMode").unwrap_or("0644");
        if !file_mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(ApiError::FileModeInvalid);
        }
        let file_owner = params.non_empty("FileOwner").unwrap_or("root");
        if file_owner.chars().count() > MAX_ACCOUNT_CHARS {
            return Err(ApiError::InvalidFileOwner);
        }
        let file_group = params.non_empty("FileGroup").unwrap_or("root");
        if file_group.chars().count() > MAX_ACCOUNT_CHARS {
            return Err(ApiError::InvalidFileGroup);
        }
        let description = params.raw("Description").unwrap_or("");
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ApiError::FileDescExceedLimit);
        }
        let overwrite = params.bool("Overwrite")?.unwrap_or(false);
        let timeout = params
            .integer("Timeout", ApiError::InvalidParameter { name: "Timeout" })?
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS as i64);
        if timeout > MAX_TIMEOUT_SECONDS as i64 {
            return Err(ApiError::TimeoutExceedLimit);
        }
        let timeout_seconds = u64::try_from(timeout).unwrap_or(0).max(MIN_TIMEOUT_SECONDS);
        let tags = tags::from_params(params)?;
        let client_token = params.non_empty("ClientToken");
        if client_token
            .is_some_and(|token| !token.is_ascii() || token.len() > MAX_CLIENT_TOKEN_CHARS)
        {
            return Err(ApiError::InvalidParameter {
                name: "ClientToken",
            });
        }

        Ok(SendFileRequest {
            region_id: RegionId::from(region_id),
            instance_ids: instance_ids.into_iter().map(InstanceId::from).collect(),
            file: FileSpec {
                name: name.to_owned(),
                target_dir: target_dir.to_owned(),
                content: content.to_owned(),
                content_type,
                file_mode: file_mode.to_owned(),
                file_owner: file_owner.to_owned(),
                file_group: file_group.to_owned(),
                overwrite,
                description: description.to_owned(),
            },
            timeout_seconds,
            resource_group_id: params.non_empty("ResourceGroupId").map(str::to_owned),
            tags,
            client_token: client_token.map(str::to_owned),
        })
    }
}

/// How a DescribeSendFileResults call pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// `PageNumber` (from 1) and `PageSize`.
    Pages { number: u64, size: u64 },
    /// `MaxResults`, continuing after `NextToken` when given. When either is
    /// present the page parameters are ignored.
    Token {
        max_results: u64,
        next_token: Option<String>,
    },
}

impl Paging {
    /// Token paging when `MaxResults` or `NextToken` is given (page
    /// parameters are then ignored), else page paging with its defaults.
    pub fn from_params(params: &Params) -> Result<Paging, ApiError> {
        let max_results = params.integer("MaxResults", ApiError::InvalidMaxResults)?;
        let next_token = params.non_empty("NextToken");
        if max_results.is_some() || next_token.is_some() {
            let max_results = max_results.unwrap_or(DEFAULT_PAGE_SIZE as i64);
            return Ok(Paging::Token {
                max_results: in_page_range(max_results).ok_or(ApiError::InvalidMaxResults)?,
                next_token: next_token.map(str::to_owned),
            });
        }
        let number = params
            .integer("PageNumber", ApiError::InvalidPageNumber)?
            .unwrap_or(1);
        let size = params
            .integer("PageSize", ApiError::InvalidPageSize)?
            .unwrap_or(DEFAULT_PAGE_SIZE as i64);
        Ok(Paging::Pages {
            number: u64::try_from(number)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(ApiError::InvalidPageNumber)?,
            size: in_page_range(size).ok_or(ApiError::InvalidPageSize)?,
        })
    }

    /// `PageNumber` and `PageSize` as the response reports them.
    pub fn reported(&self) -> (u64, u64) {
        match self {
            Paging::Pages { number, size } => (*number, *size),
            Paging::Token { max_results, .. } => (1, *max_results),
        }
    }
}

/// A validated `DescribeCloudAssistantStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeCloudAssistantStatusRequest {
    pub region_id: RegionId,
    /// When given, exactly these instances, and paging is ignored.
    pub instance_ids: Vec<InstanceId>,
    /// `Windows`, `Linux` or `FreeBSD`, compared without regard to case.
    pub os_type: Option<String>,
    pub paging: Paging,
}

/// At most this many `InstanceId.N` on DescribeCloudAssistantStatus.
pub const MAX_STATUS_INSTANCES: usize = 100;

impl DescribeCloudAssistantStatusRequest {
    pub fn from_params(params: &Params) -> Result<DescribeCloudAssistantStatusRequest, ApiError> {
        let region_id = params.required("RegionId")?;
        let instance_ids = params.list("InstanceId");
        if instance_ids.len() > MAX_STATUS_INSTANCES {
            return Err(ApiError::InstanceIdsExceedLimit);
        }
        Ok(DescribeCloudAssistantStatusRequest {
            region_id: RegionId::from(region_id),
            instance_ids: instance_ids.iter().copied().map(InstanceId::from).collect(),
            os_type: params.non_empty("OSType").map(str::to_owned),
            // Paging is ignored when instances are named, so a bad page
            // parameter beside them is no error either.
            paging: if instance_ids.is_empty() {
                Paging::from_params(params)?
            } else {
                Paging::Pages {
                    number: 1,
                    size: DEFAULT_PAGE_SIZE,
                }
            },
        })
    }
}

/// A validated `DescribeSendFileResults`. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeSendFileResultsRequest {
    pub region_id: RegionId,
    pub invoke_id: Option<InvokeId>,
    pub instance_id: Option<InstanceId>,
    pub name: Option<String>,
    pub invocation_status: Option<String>,
    pub resource_group_id: Option<String>,
    /// Records must carry every one of these tags.
    pub tags: Vec<Tag>,
    pub paging: Paging,
}

impl DescribeSendFileResultsRequest {
    pub fn from_params(params: &Params) -> Result<DescribeSendFileResultsRequest, ApiError> {
        let region_id = params.required("RegionId")?;

        let paging = Paging::from_params(params)?;

        Ok(DescribeSendFileResultsRequest {
            region_id: RegionId::from(region_id),
            invoke_id: params.non_empty("InvokeId").map(InvokeId::from),
            instance_id: params.non_empty("InstanceId").map(InstanceId::from),
            name: params.non_empty("Name").map(str::to_owned),
            invocation_status: params.non_empty("InvocationStatus").map(str::to_owned),
            resource_group_id: params.non_empty("ResourceGroupId").map(str::to_owned),
            tags: tags::from_params(params)?,
            paging,
        })
    }

    /// Whether a record with this overall status passes the
    /// `InvocationStatus` filter. A word that is no status matches nothing.
    pub fn wants_status(&self, status: InvocationStatus) -> bool {
        self.invocation_status
            .as_deref()
            .is_none_or(|word| word == status.as_str())
    }
}

fn in_page_range(size: i64) -> Option<u64> {
    u64::try_from(size)
        .ok()
        .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_reads_like_the_agent() {
        let cases = [
            ("ZWNobyBoZWxsbw==", Some(&b"echo hello"[..])),
            ("ZWNobyBo\r\nZWxsbw==", Some(&b"echo hello"[..])),
            // Non-zero padding bits, which Go's StdEncoding accepts.
            ("YR==", Some(&b"a"[..])),
            ("ZWNobyBoZWxsbw", None),
            ("ZWNob yBoZWxsbw==", None),
            ("ZWNo-_==", None),
        ];
        for (text, want) in cases {
            assert_eq!(decode_base64(text).as_deref(), want, "{text:?}");
        }
    }
}
