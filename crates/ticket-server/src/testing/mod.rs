//! The real backing services, started privately on loopback for the tests and the benchmarks
//! (feature `testing`): [`Azurite`], Microsoft's Azure Storage emulator from npm, and [`Postgres`],
//! a PostgreSQL cluster from Debian's packages. Each lives in a temporary folder and stops when
//! dropped.

mod azurite;
mod postgres;

pub use azurite::Azurite;
pub use postgres::Postgres;
