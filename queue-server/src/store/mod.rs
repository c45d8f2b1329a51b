//! Durable state: SQLite in WAL mode with synchronous FULL, one writer
//! thread with group commit, and a small pool of read-only connections.

pub mod backups;
pub mod bookings;
pub mod managers;
pub mod queries;
pub mod reader;
pub mod restore;
pub mod schema;
pub mod tables;
pub mod writer;
