//! The append-only log of simulator decisions, so a person can read why a
//! task ended as it did ("agent on i-… stopped: task aborted").

use std::collections::VecDeque;

use casim_model::Timestamp;
use serde::{Deserialize, Serialize};

/// How many entries are kept; the oldest go first.
const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the whole log, counting entries already dropped.
    pub seq: u64,
    pub at: Timestamp,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionLog {
    entries: VecDeque<LogEntry>,
    next_seq: u64,
}

impl DecisionLog {
    pub fn record(&mut self, at: Timestamp, message: String) {
        tracing::debug!(target: "casim::decision", at = %at, "{message}");
        while self.entries.len() >= CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(LogEntry {
            seq: self.next_seq,
            at,
            message,
        });
        self.next_seq = self.next_seq.saturating_add(1);
    }

    /// An empty log that numbers on from where this one stopped, so a
    /// reader following it by `seq` sees what comes after a restart.
    pub fn continued(&self) -> DecisionLog {
        DecisionLog {
            entries: VecDeque::new(),
            next_seq: self.next_seq,
        }
    }

    /// Appends `other`'s entries, numbered on from here. They were logged
    /// when first recorded, so they are not logged again.
    pub fn adopt(&mut self, other: DecisionLog) {
        for entry in other.entries {
            while self.entries.len() >= CAPACITY {
                self.entries.pop_front();
            }
            self.entries.push_back(LogEntry {
                seq: self.next_seq,
                ..entry
            });
            self.next_seq = self.next_seq.saturating_add(1);
        }
    }

    /// Entries with `seq >= from`, oldest first.
    pub fn since(&self, from: u64) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter().filter(move |entry| entry.seq >= from)
    }
}
