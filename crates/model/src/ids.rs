//! Newtypes for the identifiers the API hands out and accepts.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }
    };
}

string_id!(
    /// An ECS instance, `i-bp1hsglsw…`.
    InstanceId
);
string_id!(
    /// A file-sending task, `f-…` (command tasks use `t-`).
    InvokeId
);
string_id!(
    /// A region, `cn-hangzhou`.
    RegionId
);
string_id!(
    /// The id of one API call, an uppercase UUID.
    RequestId
);
