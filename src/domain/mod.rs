//! Domain rules with no I/O: resident ID numbers, masking of personal data and grid codes.

pub mod credit_code;
pub mod grid_code;
pub mod id_number;
pub mod masking;
