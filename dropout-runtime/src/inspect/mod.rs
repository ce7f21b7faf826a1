//! Seeing a network: a pass layer by layer ([`Trace`](crate::Trace)), the network as a picture
//! ([`diagram`]), an interactive page to explore it ([`explorer`]), and its parameters printed
//! back as a declaration ([`source`]).

#[cfg(feature = "diagram")]
pub mod diagram;
pub mod explorer;
pub mod page;
pub mod source;
pub(crate) mod trace;
