//! Fault rules on a running simulation: adding, naming, removing, and
//! deciding whether one fires.

use super::*;
use crate::faults;

impl Simulation {
    /// Adds a per-instance fault rule (named `fault-N` when it has no id).
    pub fn add_fault(&mut self, mut rule: FaultRule) -> Result<FaultRule, FleetError> {
        faults::check_rate(rule.rate).map_err(FleetError::InvalidFault)?;
        let content = serde_json::to_vec(&rule).unwrap_or_default();
        rule.id = self.rule_id(rule.id, "fault", &content)?;
        self.log.record(
            self.now,
            format!("fault {} added: {}", rule.id, rule.error_code),
        );
        self.faults.push(rule.clone());
        Ok(rule)
    }

    /// Adds an API fault rule (named `api-fault-N` when it has no id).
    pub fn add_api_fault(&mut self, mut rule: ApiFaultRule) -> Result<ApiFaultRule, FleetError> {
        check_api_rule(&rule)?;
        let content = serde_json::to_vec(&rule).unwrap_or_default();
        rule.id = self.rule_id(rule.id, "api-fault", &content)?;
        self.log.record(
            self.now,
            format!("API fault {} added: {:?}", rule.id, rule.kind),
        );
        self.api_faults.push(rule.clone());
        Ok(rule)
    }

    /// The id a rule is known and drawn by. An unnamed rule is named after
    /// its content, so whether it fires never depends on which other rules
    /// were added before it; only identical unnamed rules get a suffix.
    fn rule_id(&self, id: String, prefix: &str, content: &[u8]) -> Result<String, FleetError> {
        let taken = |id: &str| {
            self.faults.iter().any(|r| r.id == id) || self.api_faults.iter().any(|r| r.id == id)
        };
        if !id.is_empty() {
            if taken(&id) {
                return Err(FleetError::InvalidFault(format!(
                    "a fault named `{id}` exists already"
                )));
            }
            return Ok(id);
        }
        let digest = Sha256::digest(content);
        let base = format!("{prefix}-{}", hex_prefix(&digest));
        let mut candidate = base.clone();
        let mut n = 1;
        while taken(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        Ok(candidate)
    }

    pub fn faults(&self) -> &[FaultRule] {
        &self.faults
    }

    pub fn api_faults(&self) -> &[ApiFaultRule] {
        &self.api_faults
    }

    /// Removes the fault rule of either kind named `id`; whether one was.
    pub fn remove_fault(&mut self, id: &str) -> bool {
        let before = self.faults.len() + self.api_faults.len();
        self.faults.retain(|r| r.id != id);
        self.api_faults.retain(|r| r.id != id);
        let removed = before != self.faults.len() + self.api_faults.len();
        if removed {
            // A rule added again under the same id starts afresh.
            self.fault_hits.retain(|(rule, _), _| rule != id);
            self.api_fault_calls.remove(id);
            self.log.record(self.now, format!("fault {id} removed"));
        }
        removed
    }

    /// The code a fault rule injects into this instance's task `ordinal`,
    /// if any: the first rule in scope that fires.
    pub(super) fn injected_fault(
        &mut self,
        instance_id: &InstanceId,
        file_name: &str,
        ordinal: u64,
    ) -> Option<ErrorCode> {
        let instance = self.instances.get(instance_id)?;
        for rule in &self.faults {
            if !rule.scope.covers(instance, file_name) {
                continue;
            }
            let seen = self
                .fault_hits
                .entry((rule.id.clone(), instance_id.clone()))
                .or_insert(0);
            let within_first = rule.first.is_none_or(|first| *seen < first);
            *seen = (*seen).saturating_add(1);
            let key = [
                b"fault".as_slice(),
                rule.id.as_bytes(),
                instance_id.as_str().as_bytes(),
                &ordinal.to_le_bytes(),
            ];
            if within_first && faults::fires(self.seed, rule.rate, &key) {
                return Some(rule.error_code);
            }
        }
        None
    }

    /// The API fault, if any, that this call to `action` meets.
    pub fn api_fault(&mut self, action: &str) -> Option<ApiFaultKind> {
        // Only the actions casim answers meet API faults; anything else is
        // refused as an unknown action whatever the rules say.
        if !casim_model::ACTIONS.contains(&action) {
            return None;
        }
        // Every rule in scope sees every call, so whether one fires never
        // depends on whether an earlier rule fired first.
        let mut chosen = None;
        for rule in &self.api_faults {
            if !rule.actions.is_empty() && !rule.actions.iter().any(|a| a == action) {
                continue;
            }
            let (calls, fired) = self
                .api_fault_calls
                .entry(rule.id.clone())
                .or_insert((0, 0));
            let call = *calls;
            *calls = (*calls).saturating_add(1);
            if chosen.is_some() || rule.count.is_some_and(|count| *fired >= count) {
                continue;
            }
            let key = [
                b"api-fault".as_slice(),
                rule.id.as_bytes(),
                &call.to_le_bytes(),
            ];
            if faults::fires(self.seed, rule.rate, &key) {
                *fired = (*fired).saturating_add(1);
                chosen = Some((rule.id.clone(), rule.kind));
            }
        }
        let (id, kind) = chosen?;
        self.log.record(
            self.now,
            format!("{action}: API fault {id} fired: {kind:?}"),
        );
        Some(kind)
    }
}

/// Refuses an API fault rule that could never act as written.
pub(super) fn check_api_rule(rule: &ApiFaultRule) -> Result<(), FleetError> {
    faults::check_rate(rule.rate).map_err(FleetError::InvalidFault)?;
    if let Some(unknown) = rule
        .actions
        .iter()
        .find(|a| !casim_model::ACTIONS.contains(&a.as_str()))
    {
        return Err(FleetError::InvalidFault(format!(
            "no action `{unknown}`; casim answers {}",
            casim_model::ACTIONS.join(", ")
        )));
    }
    if let ApiFaultKind::Latency { millis } = rule.kind {
        if millis > faults::MAX_LATENCY_MS {
            return Err(FleetError::InvalidFault(format!(
                "latency of {millis} ms is over the {} ms a client could wait for",
                faults::MAX_LATENCY_MS
            )));
        }
    }
    Ok(())
}

/// The first four bytes of a digest as hex: enough to tell rules apart.
fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
