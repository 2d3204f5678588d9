//! `InvokeId`s and `RequestId`s: drawn from keyed streams, or pinned.

use super::*;

impl Simulation {
    /// Pins the ids the next SendFile and the next response take. An
    /// `InvokeId` must be new and neither may be blank: a pin that could
    /// not be honoured is refused now rather than ignored later.
    pub fn pin_ids(&mut self, pinned: PinnedIds) -> Result<(), FleetError> {
        let blank = |id: &str| id.trim().is_empty() || id.chars().any(char::is_control);
        if let Some(id) = &pinned.invoke_id {
            if blank(id.as_str()) || self.store.contains(id) {
                return Err(FleetError::InvalidPin(format!(
                    "InvokeId `{id}` is blank or taken"
                )));
            }
        }
        if let Some(id) = &pinned.request_id {
            if blank(id.as_str()) {
                return Err(FleetError::InvalidPin(format!("RequestId {id:?} is blank")));
            }
        }
        if pinned.invoke_id.is_some() {
            self.pinned.invoke_id = pinned.invoke_id;
        }
        if pinned.request_id.is_some() {
            self.pinned.request_id = pinned.request_id;
        }
        Ok(())
    }

    /// The `RequestId` of the next response to `action`: an uppercase UUID
    /// drawn from the stream keyed by the action and its call counter.
    pub fn next_request_id(&mut self, action: &str) -> RequestId {
        let action = casim_model::ACTIONS
            .into_iter()
            .find(|a| *a == action)
            .unwrap_or("Other");
        let counter = self.calls.entry(action.to_owned()).or_insert(0);
        let n = *counter;
        *counter = (*counter).saturating_add(1);
        if let Some(pinned) = self.pinned.request_id.take() {
            return pinned;
        }
        let hex = rng::hex(
            &mut rng::stream(
                self.seed,
                &[b"RequestId", action.as_bytes(), &n.to_le_bytes()],
            ),
            16,
        )
        .to_uppercase();
        RequestId::new(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    pub(super) fn new_invoke_id(&mut self) -> InvokeId {
        if let Some(pinned) = self.pinned.invoke_id.take() {
            if !self.store.contains(&pinned) {
                return pinned;
            }
        }
        loop {
            let n = self.invocations_created;
            self.invocations_created = self.invocations_created.saturating_add(1);
            let mut stream = rng::stream(self.seed, &[b"InvokeId", &n.to_le_bytes()]);
            let id = InvokeId::new(format!("f-{}", &rng::hex(&mut stream, 9)));
            if !self.store.contains(&id) {
                return id;
            }
        }
    }
}
