//! Per-instance and overall statuses of a file-sending task, and the rule
//! that rolls the first up into the second.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `InvokeInstance.InvocationStatus`: where one instance's copy of the task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstanceStatus {
    /// Being validated or dispatched.
    Pending,
    /// The agent is writing the file.
    Running,
    /// The file was written.
    Success,
    /// The task failed the agent's validation (bad name, mode, owner, ...).
    Invalid,
    /// The task could not be delivered to the instance.
    Aborted,
    /// The file could not be created.
    Failed,
    /// The task did not finish in time.
    Timeout,
    /// An exception interrupted the task (the instance was released).
    Error,
}

impl InstanceStatus {
    pub const ALL: [InstanceStatus; 8] = [
        InstanceStatus::Pending,
        InstanceStatus::Running,
        InstanceStatus::Success,
        InstanceStatus::Invalid,
        InstanceStatus::Aborted,
        InstanceStatus::Failed,
        InstanceStatus::Timeout,
        InstanceStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Pending => "Pending",
            InstanceStatus::Running => "Running",
            InstanceStatus::Success => "Success",
            InstanceStatus::Invalid => "Invalid",
            InstanceStatus::Aborted => "Aborted",
            InstanceStatus::Failed => "Failed",
            InstanceStatus::Timeout => "Timeout",
            InstanceStatus::Error => "Error",
        }
    }

    /// Whether the task on this instance has reached its outcome.
    pub fn is_terminal(self) -> bool {
        !matches!(self, InstanceStatus::Pending | InstanceStatus::Running)
    }

    /// The statuses the overall rule counts as "Failed".
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            InstanceStatus::Invalid
                | InstanceStatus::Aborted
                | InstanceStatus::Failed
                | InstanceStatus::Timeout
                | InstanceStatus::Error
        )
    }
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Invocation.InvocationStatus`: the task's status over all its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvocationStatus {
    Pending,
    Running,
    Success,
    Failed,
    PartialFailed,
}

impl InvocationStatus {
    pub const ALL: [InvocationStatus; 5] = [
        InvocationStatus::Pending,
        InvocationStatus::Running,
        InvocationStatus::Success,
        InvocationStatus::Failed,
        InvocationStatus::PartialFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvocationStatus::Pending => "Pending",
            InvocationStatus::Running => "Running",
            InvocationStatus::Success => "Success",
            InvocationStatus::Failed => "Failed",
            InvocationStatus::PartialFailed => "PartialFailed",
        }
    }

    /// Parses the exact wire word, as the `InvocationStatus` filter takes it.
    pub fn parse(word: &str) -> Option<InvocationStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == word)
    }

    /// The overall status of a task whose instances are in `statuses`.
    ///
    /// The documentation says both "any Pending ⇒ Pending" and "any Running ⇒
    /// Running" without precedence, and calls a mix of success and failure
    /// both Failed and PartialFailed. Our rule (DESIGN.md): any Pending ⇒
    /// Pending; else any Running ⇒ Running; else all Success ⇒ Success; else
    /// all in the failure family ⇒ Failed; else PartialFailed.
    pub fn roll_up(statuses: impl IntoIterator<Item = InstanceStatus>) -> InvocationStatus {
        let (mut pending, mut running, mut success, mut failure) = (false, false, false, false);
        for status in statuses {
            match status {
                InstanceStatus::Pending => pending = true,
                InstanceStatus::Running => running = true,
                InstanceStatus::Success => success = true,
                _ => failure = true,
            }
        }
        if pending {
            InvocationStatus::Pending
        } else if running {
            InvocationStatus::Running
        } else if !failure {
            // Also the answer for a task with no instances, which SendFile
            // never creates.
            InvocationStatus::Success
        } else if !success {
            InvocationStatus::Failed
        } else {
            InvocationStatus::PartialFailed
        }
    }
}

impl fmt::Display for InvocationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule restated as a specification, independently of `roll_up`'s
    /// flags: checked against every combination of one to three instances.
    fn expected(statuses: &[InstanceStatus]) -> InvocationStatus {
        use InstanceStatus as S;
        if statuses.contains(&S::Pending) {
            InvocationStatus::Pending
        } else if statuses.contains(&S::Running) {
            InvocationStatus::Running
        } else if statuses.iter().all(|s| *s == S::Success) {
            InvocationStatus::Success
        } else if statuses.iter().all(|s| s.is_failure()) {
            InvocationStatus::Failed
        } else {
            InvocationStatus::PartialFailed
        }
    }

    #[test]
    fn roll_up_over_every_combination_of_up_to_three_instances() {
        let mut combinations: Vec<Vec<InstanceStatus>> = vec![vec![]];
        let mut checked = 0;
        for _ in 0..3 {
            combinations = combinations
                .iter()
                .flat_map(|prefix| {
                    InstanceStatus::ALL.iter().map(move |s| {
                        let mut next = prefix.clone();
                        next.push(*s);
                        next
                    })
                })
                .collect();
            for statuses in &combinations {
                assert_eq!(
                    InvocationStatus::roll_up(statuses.iter().copied()),
                    expected(statuses),
                    "{statuses:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 8 + 64 + 512);
    }

    #[test]
    fn roll_up_examples_from_the_documentation() {
        use InstanceStatus as S;
        let check = |statuses: &[S], want: InvocationStatus| {
            assert_eq!(
                InvocationStatus::roll_up(statuses.iter().copied()),
                want,
                "{statuses:?}"
            );
        };
        check(&[S::Success], InvocationStatus::Success);
        check(&[S::Pending, S::Running], InvocationStatus::Pending);
        check(&[S::Running, S::Success], InvocationStatus::Running);
        check(&[S::Success, S::Aborted], InvocationStatus::PartialFailed);
        check(
            &[S::Invalid, S::Timeout, S::Error],
            InvocationStatus::Failed,
        );
    }

    #[test]
    fn terminal_and_failure_families() {
        for status in InstanceStatus::ALL {
            let terminal = !matches!(status, InstanceStatus::Pending | InstanceStatus::Running);
            assert_eq!(status.is_terminal(), terminal, "{status}");
            assert_eq!(
                status.is_failure(),
                terminal && status != InstanceStatus::Success,
                "{status}"
            );
        }
    }
}
