//! `InvokeId`s and `RequestId`s: drawn from keyed streams, or pinned.

use super::*;

/// The actions whose calls are counted for `RequestId`s; anything else is
/// counted under "Other" so that junk action names cannot grow the map.
const COUNTED_ACTIONS: [&str; 3] = [
    "SendFile",
    "DescribeSendFileResults",
    "DescribeCloudAssistantStatus",
];

impl Simulation {
    /// Pins the ids the next SendFile and the next response take.
    pub fn pin_ids(&mut self, pinned: PinnedIds) {
        if pinned.invoke_id.is_some() {
            self.pinned.invoke_id = pinned.invoke_id;
        }
        if pinned.request_id.is_some() {
            self.pinned.request_id = pinned.request_id;
        }
    }

    /// The `RequestId` of the next response to `action`: an uppercase UUID
    /// drawn from the stream keyed by the action and its call counter.
    pub fn next_request_id(&mut self, action: &str) -> RequestId {
        let action = COUNTED_ACTIONS
            .into_iter()
            .find(|a| *a == action)
            .unwrap_or("Other");
        let counter = self.calls.entry(action.to_owned()).or_insert(0);
        let n = *counter;
        *counter += 1;
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
            self.invocations_created += 1;
            let mut stream = rng::stream(self.seed, &[b"InvokeId", &n.to_le_bytes()]);
            let id = InvokeId::new(format!("f-{}", &rng::hex(&mut stream, 9)));
            if !self.store.contains(&id) {
                return id;
            }
        }
    }
}
