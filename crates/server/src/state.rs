//! Shared server state: the simulation and its clock behind one lock, and
//! the settings that shape responses. Cloning is cheap.

use std::sync::{Arc, Mutex, MutexGuard};

use casim_fleet::Simulation;
use casim_model::{ErrorEra, Timestamp};

use crate::clock::Clock;
use crate::signature::{AccessKeys, NonceCache};

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Mutex<World>>,
    pub era: ErrorEra,
    /// When set, every RPC request must be signed with one of these keys.
    pub keys: Option<Arc<AccessKeys>>,
    nonces: Arc<Mutex<NonceCache>>,
}

/// Everything that changes, locked together so a request sees one instant.
#[derive(Debug)]
pub struct World {
    pub sim: Simulation,
    pub clock: Clock,
}

impl World {
    /// Brings the simulation up to the clock's present and returns it.
    pub fn catch_up(&mut self) -> Timestamp {
        let now = self.clock.now(self.sim.now());
        self.sim.advance_to(now);
        now
    }
}

impl AppState {
    pub fn new(sim: Simulation, clock: Clock, era: ErrorEra, keys: Option<AccessKeys>) -> AppState {
        AppState {
            inner: Arc::new(Mutex::new(World { sim, clock })),
            era,
            keys: keys.map(Arc::new),
            nonces: Arc::new(Mutex::new(NonceCache::default())),
        }
    }

    /// The nonces seen lately, for replay checks.
    pub fn nonces(&self) -> MutexGuard<'_, NonceCache> {
        self.nonces
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The world, caught up to the present. Handlers hold it only for the
    /// synchronous work of one request, never across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        // A panic while the lock was held cannot leave the simulation half
        // changed in a way later requests would trip on worse than an error,
        // so keep serving rather than poisoning the server for good.
        let mut world = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        world.catch_up();
        world
    }
}
