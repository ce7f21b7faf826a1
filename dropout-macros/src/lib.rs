//! The `network!` procedural macro of the [`dropout`](https://docs.rs/dropout) crate.
//!
//! Use it through `dropout::network!`; its grammar is documented there. This crate is a thin shim:
//! parsing (`ast.rs`), checking (`check.rs`) and expansion (`expand.rs`) are ordinary functions
//! over `proc_macro2` tokens.

mod ast;
mod check;
mod errors;
mod expand;
mod files;
mod model;
mod pipeline;
mod suggest;

use proc_macro::TokenStream;

// Documented where `dropout` re-exports it, so that its examples can use the facade crate.
#[allow(missing_docs)]
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    pipeline::expand_network(input.into()).into()
}

#[cfg(test)]
mod robustness;
