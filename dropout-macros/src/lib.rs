//! The `network!` procedural macro of the [`dropout-nn`](https://docs.rs/dropout-nn) crate.
//!
//! Use it through `dropout::network!`, where its grammar is documented. This crate only converts
//! between `proc_macro` and `proc_macro2` tokens: the macro itself is `dropout-macros-backend`,
//! an ordinary library that tests and benchmarks can link.

use proc_macro::TokenStream;

// Documented where `dropout` re-exports it, so that its examples can use the facade crate.
#[expect(
    missing_docs,
    reason = "documented on the `dropout::network` re-export"
)]
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    dropout_macros_backend::expand(input.into()).into()
}
