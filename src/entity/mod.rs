//! sea-orm entities, one file per table. Closed sets of values live in `vocabulary`.

pub mod api_key;
pub mod audit_entry;
pub mod audit_head;
pub mod department;
pub mod dual_registration;
pub mod event;
pub mod event_action;
pub mod event_involvement;
pub mod grid;
pub mod grid_closure;
pub mod grid_staff;
pub mod grid_tally;
pub mod house;
pub mod membership;
pub mod object;
pub mod organization;
pub mod person;
pub mod person_tag;
pub mod place;
pub mod registered_operation;
pub mod residence;
pub mod sharing_request;
pub mod source_record;
pub mod vocabulary;
pub mod volunteer_activity;
pub mod volunteer_participation;
