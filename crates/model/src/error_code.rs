//! Per-instance `ErrorCode`s: why a task failed on one instance, the status
//! that failure leaves, and the `ErrorInfo` text the service shows with it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::status::InstanceStatus;

/// `InvokeInstance.ErrorCode`. A successful or unfinished task has none
/// (the wire shows an empty string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    InstanceNotExists,
    InstanceReleased,
    InstanceNotRunning,
    AccountNotExists,
    ClientNotRunning,
    ClientNotResponse,
    ClientIsUpgrading,
    ClientNeedUpgrade,
    DeliveryTimeout,
    FileCreateFail,
    FileAlreadyExists,
    FileContentInvalid,
    FileNameInvalid,
    FilePathInvalid,
    FileAuthorityInvalid,
    UserGroupNotExists,
}

/// The one table: code, the per-instance status it ends in, and `ErrorInfo`.
///
/// Status column: DESIGN.md (the documentation gives no mapping; the agent
/// reports validation failures through its "invalid task" channel, write
/// failures as Failed, and delivery failures never reach it). `ErrorInfo`
/// column: the seed documentation's wording where it has one, else the
/// newer list's.
const TABLE: [(ErrorCode, InstanceStatus, &str); 16] = {
    use ErrorCode as C;
    use InstanceStatus as S;
    [
        (
            C::InstanceNotExists,
            S::Aborted,
            "the specified instance does not exists",
        ),
        (
            C::InstanceReleased,
            S::Error,
            "the instance has released when create task",
        ),
        (
            C::InstanceNotRunning,
            S::Aborted,
            "the instance is not running when create task",
        ),
        (C::AccountNotExists, S::Invalid, "Owner not exists"),
        (
            C::ClientNotRunning,
            S::Aborted,
            "the aliyun service is not running on the instance",
        ),
        (
            C::ClientNotResponse,
            S::Aborted,
            "the aliyun service in the instance does not response",
        ),
        (
            C::ClientIsUpgrading,
            S::Aborted,
            "the aliyun service in the instance is upgrading now",
        ),
        (
            C::ClientNeedUpgrade,
            S::Aborted,
            "the aliyun service in the instance need upgrade",
        ),
        (
            C::DeliveryTimeout,
            S::Timeout,
            "the command delivery has been timeout",
        ),
        (
            C::FileCreateFail,
            S::Failed,
            "Unexpected error during creating",
        ),
        (C::FileAlreadyExists, S::Invalid, "File already exists"),
        (C::FileContentInvalid, S::Invalid, "File content error"),
        (C::FileNameInvalid, S::Invalid, "File name is invalid"),
        (C::FilePathInvalid, S::Invalid, "File path is invalid"),
        (C::FileAuthorityInvalid, S::Invalid, "Mode is invalid"),
        (C::UserGroupNotExists, S::Invalid, "Group not exists"),
    ]
};

impl ErrorCode {
    pub const ALL: [ErrorCode; 16] = {
        let mut all = [ErrorCode::InstanceNotExists; 16];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    fn row(self) -> &'static (ErrorCode, InstanceStatus, &'static str) {
        // The table lists the variants in declaration order.
        &TABLE[self as usize]
    }

    /// The per-instance status a task ends in with this code.
    pub fn status(self) -> InstanceStatus {
        self.row().1
    }

    /// The `ErrorInfo` shown beside this code.
    pub fn error_info(self) -> &'static str {
        self.row().2
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InstanceNotExists => "InstanceNotExists",
            ErrorCode::InstanceReleased => "InstanceReleased",
            ErrorCode::InstanceNotRunning => "InstanceNotRunning",
            ErrorCode::AccountNotExists => "AccountNotExists",
            ErrorCode::ClientNotRunning => "ClientNotRunning",
            ErrorCode::ClientNotResponse => "ClientNotResponse",
            ErrorCode::ClientIsUpgrading => "ClientIsUpgrading",
            ErrorCode::ClientNeedUpgrade => "ClientNeedUpgrade",
            ErrorCode::DeliveryTimeout => "DeliveryTimeout",
            ErrorCode::FileCreateFail => "FileCreateFail",
            ErrorCode::FileAlreadyExists => "FileAlreadyExists",
            ErrorCode::FileContentInvalid => "FileContentInvalid",
            ErrorCode::FileNameInvalid => "FileNameInvalid",
            ErrorCode::FilePathInvalid => "FilePathInvalid",
            ErrorCode::FileAuthorityInvalid => "FileAuthorityInvalid",
            ErrorCode::UserGroupNotExists => "UserGroupNotExists",
        }
    }

    pub fn parse(word: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|code| code.as_str() == word)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_declaration_order_and_complete() {
        for (index, (code, _, _)) in TABLE.iter().enumerate() {
            assert_eq!(*code as usize, index, "{code} is out of place in TABLE");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
    }

    #[test]
    fn every_code_ends_in_a_failure_status() {
        for code in ErrorCode::ALL {
            assert!(
                code.status().is_failure(),
                "{code} ends in {}",
                code.status()
            );
        }
    }

    #[test]
    fn codes_and_statuses_follow_the_design() {
        use ErrorCode as C;
        let check = |code: C, status: InstanceStatus, info: &str| {
            assert_eq!((code.status(), code.error_info()), (status, info), "{code}");
        };
        check(
            C::ClientNotRunning,
            InstanceStatus::Aborted,
            "the aliyun service is not running on the instance",
        );
        check(
            C::FileAlreadyExists,
            InstanceStatus::Invalid,
            "File already exists",
        );
        check(
            C::DeliveryTimeout,
            InstanceStatus::Timeout,
            "the command delivery has been timeout",
        );
        check(
            C::InstanceReleased,
            InstanceStatus::Error,
            "the instance has released when create task",
        );
        check(
            C::FileCreateFail,
            InstanceStatus::Failed,
            "Unexpected error during creating",
        );
        check(
            C::AccountNotExists,
            InstanceStatus::Invalid,
            "Owner not exists",
        );
    }
}
