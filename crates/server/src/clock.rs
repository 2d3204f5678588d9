//! The server's clock: the one place that turns wall time into the
//! simulation's virtual time.

use std::time::Instant;

use casim_model::Timestamp;

/// How virtual time moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockMode {
    /// Still until the control API advances it: for tests and scenarios.
    Manual,
    /// Follows the wall clock, `speed` virtual seconds per real second, so
    /// an interactive user sees tasks move on their own.
    Wall { speed: f64 },
}

#[derive(Debug, Clone)]
pub struct Clock {
    mode: ClockMode,
    /// Virtual time at `origin`.
    base: Timestamp,
    origin: Instant,
}

impl Clock {
    pub fn new(mode: ClockMode, start: Timestamp) -> Clock {
        Clock {
            mode,
            base: start,
            origin: Instant::now(),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Where virtual time stands, given where the simulation last stood
    /// (a manual clock is exactly that).
    pub fn now(&self, simulation_now: Timestamp) -> Timestamp {
        match self.mode {
            ClockMode::Manual => simulation_now,
            ClockMode::Wall { speed } => {
                let elapsed = self.origin.elapsed().as_secs_f64() * speed.max(0.0) * 1000.0;
                // `as` saturates on overflow, which is what we want here.
                let virtual_now = self.base.plus_millis(elapsed as u64);
                virtual_now.max(simulation_now)
            }
        }
    }

    /// Jumps `millis` ahead of where the clock stands (`from`). A wall clock
    /// keeps running from the new point.
    pub fn advance(&mut self, from: Timestamp, millis: u64) -> Timestamp {
        let to = from.plus_millis(millis);
        if let ClockMode::Wall { .. } = self.mode {
            self.base = to;
            self.origin = Instant::now();
        }
        to
    }

    /// Switches how time moves, from virtual time `now` on.
    pub fn set_mode(&mut self, mode: ClockMode, now: Timestamp) {
        self.mode = mode;
        self.base = now;
        self.origin = Instant::now();
    }

    /// Back to `start`.
    pub fn reset(&mut self, start: Timestamp) {
        self.base = start;
        self.origin = Instant::now();
    }
}
