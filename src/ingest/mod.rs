//! Department data in: readers, adapters, identity resolution and provenance.

pub mod reader;
