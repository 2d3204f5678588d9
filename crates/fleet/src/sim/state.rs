//! The whole simulation as plain data, out and back in.

use super::fault_rules;
use super::*;
use crate::faults;

/// The whole simulation as plain data: what `export` writes and `import`
/// reads back, so a restart or a saved bug report loses nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimState {
    pub schema_version: u32,
    seed: u64,
    start: Timestamp,
    now: Timestamp,
    spec: FleetSpec,
    instances: Vec<Instance>,
    records: Vec<InvocationRecord>,
    events: Vec<(EventKey, Event)>,
    next_event: u64,
    calls: BTreeMap<String, u64>,
    invocations_created: u64,
    retention: Retention,
    client_tokens: BTreeMap<RegionId, BTreeMap<String, InvokeId>>,
    faults: Vec<FaultRule>,
    api_faults: Vec<ApiFaultRule>,
    fault_hits: Vec<(String, InstanceId, u64)>,
    api_fault_calls: BTreeMap<String, (u64, u64)>,
    pinned: PinnedIds,
    log: DecisionLog,
}

impl Simulation {
    /// Everything, as plain data.
    pub fn export(&self) -> SimState {
        SimState {
            schema_version: SCHEMA_VERSION,
            seed: self.seed,
            start: self.start,
            now: self.now,
            spec: self.spec.clone(),
            instances: self.instances.values().cloned().collect(),
            records: self.store.iter().cloned().collect(),
            events: self.events.iter().map(|(k, e)| (*k, e.clone())).collect(),
            next_event: self.next_event,
            calls: self.calls.clone(),
            invocations_created: self.invocations_created,
            retention: self.retention,
            client_tokens: self.client_tokens.clone(),
            faults: self.faults.clone(),
            api_faults: self.api_faults.clone(),
            fault_hits: self
                .fault_hits
                .iter()
                .map(|((rule, instance), n)| (rule.clone(), instance.clone(), *n))
                .collect(),
            api_fault_calls: self.api_fault_calls.clone(),
            pinned: self.pinned.clone(),
            log: self.log.clone(),
        }
    }

    /// A simulation exactly where `export` left it.
    pub fn import(state: SimState) -> Result<Simulation, FleetError> {
        if state.schema_version != SCHEMA_VERSION {
            return Err(FleetError::SchemaVersion {
                found: state.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        // The fleet must be one `new` would take, or a later reset would
        // have nothing sound to go back to.
        Simulation::check_spec(&state.spec)?;
        let invalid = |reason: String| FleetError::InvalidFleet(format!("state: {reason}"));
        if state.now < state.start {
            return Err(invalid(format!(
                "its time {} is before its start {}",
                state.now, state.start
            )));
        }
        let mut rule_ids = BTreeSet::new();
        for rule in &state.faults {
            faults::check_rate(rule.rate).map_err(FleetError::InvalidFault)?;
            if !rule_ids.insert(rule.id.clone()) {
                return Err(invalid(format!("two fault rules are named `{}`", rule.id)));
            }
        }
        for rule in &state.api_faults {
            fault_rules::check_api_rule(rule)?;
            if !rule_ids.insert(rule.id.clone()) {
                return Err(invalid(format!("two fault rules are named `{}`", rule.id)));
            }
        }
        let mut instances = BTreeMap::new();
        for instance in state.instances {
            let id = instance.spec.id.clone();
            if parse_version(&instance.agent_version).is_none() {
                return Err(invalid(format!(
                    "instance {id} has agent version `{}`",
                    instance.agent_version
                )));
            }
            if instances.insert(id.clone(), instance).is_some() {
                return Err(FleetError::DuplicateInstance { id });
            }
        }
        let declared: BTreeSet<&InstanceId> = state.spec.instances.iter().map(|i| &i.id).collect();
        if declared != instances.keys().collect() {
            return Err(invalid(
                "its instances are not the ones its fleet declares".to_owned(),
            ));
        }
        let mut store = RecordStore::default();
        for record in state.records {
            if store.contains(&record.invoke_id) {
                return Err(invalid(format!(
                    "record {} appears twice",
                    record.invoke_id
                )));
            }
            store.insert(record);
        }
        if state
            .events
            .iter()
            .any(|((_, _, seq), _)| *seq >= state.next_event)
        {
            return Err(invalid("an event is numbered past next_event".to_owned()));
        }
        Ok(Simulation {
            seed: state.seed,
            start: state.start,
            regions: instances.values().map(|i| i.spec.region.clone()).collect(),
            spec: state.spec,
            now: state.now,
            instances,
            store,
            events: state.events.into_iter().collect(),
            next_event: state.next_event,
            calls: state.calls,
            invocations_created: state.invocations_created,
            retention: state.retention,
            client_tokens: state.client_tokens,
            faults: state.faults,
            api_faults: state.api_faults,
            fault_hits: state
                .fault_hits
                .into_iter()
                .map(|(r, i, n)| ((r, i), n))
                .collect(),
            api_fault_calls: state.api_fault_calls,
            pinned: state.pinned,
            log: state.log,
        })
    }
}
