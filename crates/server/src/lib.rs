//! An axum mock of the ECS RPC endpoint for Cloud Assistant file sending
//! (`/?Action=SendFile`, `/?Action=DescribeSendFileResults`), plus the
//! control API under `/_casim/`.
//!
//! The server holds no simulation logic: it parses requests, asks the
//! [`casim_fleet::Simulation`] and renders what it answers. Build the router
//! with [`router`] to drive it without a socket, or [`start`] a real server.

pub mod clock;
pub mod control;
pub mod demo;
pub mod long_uri;
pub mod params;
pub mod rpc;
pub mod signature;
pub mod state;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::any;
use casim_fleet::{FleetError, FleetSpec, Retention, Simulation};
use casim_model::{ErrorEra, Timestamp};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::ClockMode;
pub use signature::AccessKeys;
pub use state::AppState;

/// The port `serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8787;

/// Everything a server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    pub fleet: FleetSpec,
    pub seed: u64,
    /// Virtual time when the server starts.
    pub start_time: Timestamp,
    pub clock: ClockMode,
    pub error_era: ErrorEra,
    /// When set, requests must be signed with one of these keys.
    pub access_keys: Option<AccessKeys>,
    pub retention: Retention,
}

impl Default for ServerConfig {
    /// A free loopback port, an empty fleet, seed 0, a manual clock at the
    /// epoch, the seed era, no signature checks, the seed's retention.
    fn default() -> ServerConfig {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            fleet: FleetSpec::default(),
            seed: 0,
            start_time: Timestamp::MIN,
            clock: ClockMode::Manual,
            error_era: ErrorEra::default(),
            access_keys: None,
            retention: Retention::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid fleet: {0}")]
    Fleet(#[from] FleetError),
}

/// The whole HTTP surface over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", any(rpc::endpoint))
        .nest(control::PREFIX, control::router())
        // Any other path gets the RPC endpoint's answers too (its error
        // envelope, never a bare 404), as an RPC gateway ignores the path.
        .fallback(rpc::endpoint)
        .with_state(state)
}

/// The state a config describes.
pub fn state(config: &ServerConfig) -> Result<AppState, ServerError> {
    let sim = Simulation::new(config.fleet.clone(), config.seed, config.start_time)?
        .with_retention(config.retention);
    let clock = clock::Clock::new(config.clock, config.start_time);
    Ok(AppState::new(
        sim,
        clock,
        config.error_era,
        config.access_keys.clone(),
    ))
}

/// A server accepting connections; it stops on [`RunningServer::shutdown`]
/// or when dropped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address actually bound (with the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Keeps a running clock's simulation moving when nobody calls, so the
/// decision log (and `serve`'s log lines) show tasks progress live.
async fn tick(state: AppState) {
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(100));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        // Taking the world catches the simulation up to the clock (a manual
        // clock has nothing to catch up).
        drop(state.world());
    }
}

/// Binds and starts serving; returns once connections are accepted.
// FIXME: connections have no read timeout and their number no cap, so a
// client that sends half a request head holds a socket for ever (they do
// not slow other clients, but enough of them exhaust file descriptors).
// Right would be a head timeout in the listener's stream and a connection
// limit, sized when the load work measures what real clients need.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    let state = state(&config)?;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.bind,
        source,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let ticker = tokio::spawn(tick(state.clone()));
    let app = router(state);
    let task = tokio::spawn(async move {
        let served = axum::serve(long_uri::LongUriListener::new(listener), app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        ticker.abort();
        if let Err(error) = served {
            tracing::error!(%error, "server stopped");
        }
    });
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
