//! Domain rules with no I/O: resident ID numbers, masking of personal data, grid codes and the
//! lifecycle of data-sharing requests.

pub mod credit_code;
pub mod grid_code;
pub mod id_number;
pub mod masking;
pub mod sharing;
