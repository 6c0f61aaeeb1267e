//! The real backing services, started privately on loopback for the tests and the benchmarks
//! (feature `testing`): [`Azurite`], Microsoft's Azure Storage emulator from npm, [`S3`], moto's
//! S3 server from PyPI, and [`Postgres`], a PostgreSQL cluster from Debian's packages. Each lives in a temporary folder and stops when
//! dropped.

mod azurite;
mod postgres;
mod s3;

pub use azurite::Azurite;
pub use postgres::Postgres;
pub use s3::S3;
