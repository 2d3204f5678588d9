//! Synchronous API errors: the request is refused, no record is created, and
//! the caller gets an error envelope with an HTTP status, `Code` and `Message`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Which generation of the documentation decides HTTP statuses.
///
/// Several codes answered 403 in the seed documentation and answer 400 in
/// the newer one (`InvalidParam.PageNumber`, `InvalidParam.PageSize`,
/// `FileTargetDir.Invalid`, `FileMode.Invalid`, `FileContent.DecodeError`,
/// `FileContentType.Invalid`). One setting moves all of them together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorEra {
    /// 403 for the codes above, as the seed documentation says.
    #[default]
    Seed,
    /// 400 for the codes above, as the current documentation says.
    Current,
}

/// Every synchronous error this service answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({}): {}", self.code(), self.http_status(ErrorEra::Seed), self.message())]
pub enum ApiError {
    /// A required parameter other than `InstanceId.N` is absent.
    MissingParameter {
        name: &'static str,
    },
    /// `SendFile` without any `InstanceId.N`.
    MissingInstanceId,
    InvalidPageNumber,
    InvalidPageSize,
    InvalidMaxResults,
    InvalidNextToken,
    /// A value that cannot be read as its type (a number that is not one,
    /// a boolean that is neither `true` nor `false`).
    InvalidParameter {
        name: &'static str,
    },
    FileTargetDirInvalid,
    FileModeInvalid,
    FileContentDecodeError,
    FileContentTypeInvalid,
    InvalidFileOwner,
    InvalidFileGroup,
    FileSizeExceedLimit,
    FileNameExceedLimit,
    FileDescExceedLimit,
    InstanceIdsExceedLimit,
    TimeoutExceedLimit,
    RegionNotFound,
    InstanceNotFound,
    ActionNotFound,
    /// `Version` is present and is not `2014-05-26`.
    InvalidVersion,
    UnsupportedHttpMethod,
    InternalErrorDispatch,
    /// More than 20 `Tag.N` pairs.
    TooManyTags,
    /// A `Tag.N.Value` without its `Tag.N.Key`.
    MissingTagKey,
    DuplicateTagKey,
    InvalidTagKey,
    InvalidTagValue,
    ResourceGroupNotFound,
    /// The signature does not match; the message carries our string to sign
    /// after a colon, which the classic Python SDK splits on.
    SignatureDoesNotMatch {
        string_to_sign: String,
    },
    IncompleteSignature,
    AccessKeyNotFound,
    TimestampExpired,
    /// A V1 request without `Timestamp`.
    IllegalTimestamp,
    SignatureNonceUsed,
    /// Flow control, as the Tea SDKs recognise it (the code contains
    /// "Throttling").
    ThrottlingUser,
}

/// What the wire shows for one error.
struct Row {
    code: Cow<'static, str>,
    /// Status in the seed era.
    status: u16,
    /// Whether the current era answers 400 instead.
    moved_to_400: bool,
    message: Cow<'static, str>,
}

fn row(code: &'static str, status: u16, message: &'static str) -> Row {
    Row {
        code: Cow::Borrowed(code),
        status,
        moved_to_400: false,
        message: Cow::Borrowed(message),
    }
}

fn moved(code: &'static str, message: &'static str) -> Row {
    Row {
        moved_to_400: true,
        ..row(code, 403, message)
    }
}

impl ApiError {
    /// The one table of codes, statuses and messages (`spec/api-facts.md`
    /// §1.3, §2.3, §5.6).
    fn row(&self) -> Row {
        use ApiError as E;
        match self {
            E::MissingParameter { name } => Row {
                code: Cow::Owned(format!("Missing{name}")),
                status: 400,
                moved_to_400: false,
                message: Cow::Owned(format!("{name} is mandatory for this action.")),
            },
            E::MissingInstanceId => row(
                "MissingParam.InstanceId",
                400,
                "The parameter instanceId is missing or empty.",
            ),
            E::InvalidPageNumber => moved(
                "InvalidParam.PageNumber",
                "The specified parameter is invalid.",
            ),
            E::InvalidPageSize => moved(
                "InvalidParam.PageSize",
                "The specified parameter is invalid.",
            ),
            E::InvalidMaxResults => row(
                "InvalidParameter.MaxResults",
                400,
                "The specified parameter MaxResults is not valid.",
            ),
            E::InvalidNextToken => row(
                "InvalidParameter.NextToken",
                400,
                "The specified parameter NextToken is not valid.",
            ),
            E::InvalidParameter { name } => Row {
                code: Cow::Borrowed("InvalidParameter"),
                status: 400,
                moved_to_400: false,
                message: Cow::Owned(format!("The specified parameter \"{name}\" is not valid.")),
            },
            E::FileTargetDirInvalid => moved(
                "FileTargetDir.Invalid",
                "The target directory of file is invalid.",
            ),
            E::FileModeInvalid => moved("FileMode.Invalid", "The mode of file is invalid."),
            E::FileContentDecodeError => moved(
                "FileContent.DecodeError",
                "The Content can not be base64 decoded.",
            ),
            E::FileContentTypeInvalid => moved(
                "FileContentType.Invalid",
                "The ContentType of file is invalid.",
            ),
            E::InvalidFileOwner => row(
                "InvalidParameter.FileOwner",
                400,
                "The specified parameter FileOwner is not valid.",
            ),
            E::InvalidFileGroup => row(
                "InvalidParameter.FileGroup",
                400,
                "The specified parameter FileGroup is not valid.",
            ),
            E::FileSizeExceedLimit => row(
                "FileSize.ExceedLimit",
                403,
                "The length of file content exceeds limit.",
            ),
            E::FileNameExceedLimit => row(
                "FileName.ExceedLimit",
                403,
                "The length of file name exceeds limit.",
            ),
            E::FileDescExceedLimit => row(
                "FileDesc.ExceedLimit",
                403,
                "The length of file description exceeds limit.",
            ),
            E::InstanceIdsExceedLimit => row(
                "InstanceIds.ExceedLimit",
                403,
                "The number of instance IDs exceeds the upper limit.",
            ),
            E::TimeoutExceedLimit => row(
                "InvalidTimeout.ExceedLimit",
                403,
                "The specified parameter Timeout exceeds the upper limit.",
            ),
            E::RegionNotFound => row(
                "InvalidRegionId.NotFound",
                404,
                "The RegionId provided does not exist in our records.",
            ),
            E::InstanceNotFound => row(
                "InvalidInstance.NotFound",
                404,
                "The specified instances not found.",
            ),
            E::ActionNotFound => row(
                "InvalidAction.NotFound",
                404,
                "Specified api is not found, please check your url and method.",
            ),
            E::InvalidVersion => row(
                "InvalidParameter",
                400,
                "The specified parameter \"Action or Version\" is not valid.",
            ),
            E::UnsupportedHttpMethod => row(
                "UnsupportedHTTPMethod",
                403,
                "This http method not supported.",
            ),
            E::InternalErrorDispatch => row(
                "InternalError.Dispatch",
                500,
                "An error occurred when you dispatched the request.",
            ),
            E::TooManyTags => row(
                "NumberExceed.Tags",
                400,
                "The Tags parameter number is exceed.",
            ),
            E::MissingTagKey => row(
                "MissingParameter.TagKey",
                400,
                "You must specify Tag.N.Key.",
            ),
            E::DuplicateTagKey => row(
                "Duplicate.TagKey",
                400,
                "The Tag.N.Key contain duplicate key.",
            ),
            E::InvalidTagKey => row(
                "InvalidTagKey.Malformed",
                400,
                "The specified Tag.n.Key is not valid.",
            ),
            E::InvalidTagValue => row(
                "InvalidTagValue.Malformed",
                400,
                "The specified Tag.n.Value is not valid.",
            ),
            E::ResourceGroupNotFound => row(
                "InvalidResourceGroup.NotFound",
                404,
                "The ResourceGroup provided does not exist in our records.",
            ),
            E::SignatureDoesNotMatch { string_to_sign } => Row {
                code: Cow::Borrowed("SignatureDoesNotMatch"),
                status: 400,
                moved_to_400: false,
                message: Cow::Owned(format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
                )),
            },
            E::IncompleteSignature => row(
                "IncompleteSignature",
                400,
                "The request signature does not conform to Aliyun standards.",
            ),
            E::AccessKeyNotFound => row(
                "InvalidAccessKeyId.NotFound",
                404,
                "Specified access key is not found.",
            ),
            E::TimestampExpired => row(
                "InvalidTimeStamp.Expired",
                400,
                "Specified time stamp or date value is expired.",
            ),
            E::IllegalTimestamp => row(
                "IllegalTimestamp",
                400,
                "The input parameter \"Timestamp\" that is mandatory for processing this request is not supplied.",
            ),
            E::SignatureNonceUsed => row(
                "SignatureNonceUsed",
                400,
                "Specified signature nonce was used already.",
            ),
            E::ThrottlingUser => row(
                "Throttling.User",
                400,
                "Request was denied due to user flow control.",
            ),
        }
    }

    /// The `Code` field.
    pub fn code(&self) -> Cow<'static, str> {
        self.row().code
    }

    /// The `Message` field.
    pub fn message(&self) -> Cow<'static, str> {
        self.row().message
    }

    /// The HTTP status in `era`.
    pub fn http_status(&self, era: ErrorEra) -> u16 {
        let row = self.row();
        match era {
            ErrorEra::Current if row.moved_to_400 => 400,
            _ => row.status,
        }
    }

    /// Whether this is the service's fault rather than the caller's.
    pub fn is_server_error(&self) -> bool {
        self.row().status >= 500
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parameters_name_the_parameter() {
        let error = ApiError::MissingParameter { name: "RegionId" };
        assert_eq!(error.code(), "MissingRegionId");
        assert_eq!(error.message(), "RegionId is mandatory for this action.");
        assert_eq!(error.http_status(ErrorEra::Seed), 400);
    }

    #[test]
    fn the_era_moves_exactly_the_six_documented_codes() {
        use ApiError as E;
        let all = [
            E::MissingParameter { name: "Name" },
            E::MissingInstanceId,
            E::InvalidPageNumber,
            E::InvalidPageSize,
            E::InvalidMaxResults,
            E::InvalidNextToken,
            E::InvalidParameter { name: "Timeout" },
            E::FileTargetDirInvalid,
            E::FileModeInvalid,
            E::FileContentDecodeError,
            E::FileContentTypeInvalid,
            E::InvalidFileOwner,
            E::InvalidFileGroup,
            E::FileSizeExceedLimit,
            E::FileNameExceedLimit,
            E::FileDescExceedLimit,
            E::InstanceIdsExceedLimit,
            E::TimeoutExceedLimit,
            E::RegionNotFound,
            E::InstanceNotFound,
            E::ActionNotFound,
            E::InvalidVersion,
            E::UnsupportedHttpMethod,
            E::InternalErrorDispatch,
            E::TooManyTags,
            E::MissingTagKey,
            E::DuplicateTagKey,
            E::InvalidTagKey,
            E::InvalidTagValue,
            E::ResourceGroupNotFound,
            E::SignatureDoesNotMatch {
                string_to_sign: "POST&%2F&x".into(),
            },
            E::IncompleteSignature,
            E::AccessKeyNotFound,
            E::TimestampExpired,
            E::IllegalTimestamp,
            E::SignatureNonceUsed,
            E::ThrottlingUser,
        ];
        let moved: Vec<_> = all
            .iter()
            .filter(|e| e.http_status(ErrorEra::Seed) != e.http_status(ErrorEra::Current))
            .map(|e| {
                (
                    e.code().into_owned(),
                    e.http_status(ErrorEra::Seed),
                    e.http_status(ErrorEra::Current),
                )
            })
            .collect();
        let want: Vec<_> = [
            "InvalidParam.PageNumber",
            "InvalidParam.PageSize",
            "FileTargetDir.Invalid",
            "FileMode.Invalid",
            "FileContent.DecodeError",
            "FileContentType.Invalid",
        ]
        .into_iter()
        .map(|code| (code.to_owned(), 403, 400))
        .collect();
        assert_eq!(moved, want);
    }
}
