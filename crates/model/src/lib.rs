//! The vocabulary of ECS Cloud Assistant file sending (`SendFile`,
//! `DescribeSendFileResults`, API version 2014-05-26).
//!
//! This crate owns everything that decides a byte of a response: ids,
//! statuses and the overall-status rule, per-instance error codes with their
//! `ErrorInfo`, the synchronous API errors with their HTTP statuses, request
//! validation, and the JSON and XML renderings. It does no IO and knows no
//! clock or randomness: callers hand it times and ids.

pub mod api_error;
pub mod error_code;
pub mod ids;
pub mod params;
pub mod record;
pub mod request;
pub mod response;
pub mod status;
pub mod tags;
pub mod timestamp;
pub mod wire;

pub use api_error::{ApiError, ErrorEra};
pub use error_code::ErrorCode;
pub use ids::{InstanceId, InvokeId, RegionId, RequestId};
pub use params::Params;
pub use record::{InstanceResult, InvocationRecord};
pub use request::{
    ContentType, DescribeCloudAssistantStatusRequest, DescribeSendFileResultsRequest, FileSpec,
    Paging, SendFileRequest,
};
pub use status::{InstanceStatus, InvocationStatus};
pub use tags::Tag;
pub use timestamp::Timestamp;
pub use wire::Format;

/// The actions this service answers.
pub const ACTIONS: [&str; 3] = [
    "SendFile",
    "DescribeSendFileResults",
    "DescribeCloudAssistantStatus",
];

/// The only API version this service speaks.
pub const API_VERSION: &str = "2014-05-26";
