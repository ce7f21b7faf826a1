//! Checking a network against what its declaration promises: an independent plain-loop pass
//! ([`reference`]) and the property checks of `tests: auto` ([`testing`]).

pub mod reference;
#[cfg(feature = "rand")]
pub mod testing;
