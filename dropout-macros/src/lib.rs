//! The `network!` procedural macro of the [`dropout`](https://docs.rs/dropout) crate.
//!
//! Use it through `dropout::network!`; its grammar is documented there. This crate is a thin shim:
//! parsing (`ast.rs`), checking (`check.rs`) and expansion (`expand.rs`) are ordinary functions
//! over `proc_macro2` tokens.

mod ast;
mod check;
mod errors;
mod expand;
mod model;
mod suggest;

use proc_macro::TokenStream;

// Documented where `dropout` re-exports it, so that its examples can use the facade crate.
#[allow(missing_docs)]
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand_network(input.into()).into()
}

/// The whole macro as a function over `proc_macro2` tokens: the generated items, or
/// `compile_error!`s followed by a stub of the declared API.
fn expand_network(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match try_expand(input) {
        Ok(tokens) => tokens,
        Err((error, stub)) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(stub);
            tokens
        }
    }
}

/// Parses, checks and expands a declaration. On error returns every problem combined, together
/// with the stub to emit beside them.
fn try_expand(
    input: proc_macro2::TokenStream,
) -> Result<proc_macro2::TokenStream, (syn::Error, proc_macro2::TokenStream)> {
    let mut errors = errors::Errors::default();
    let Some(declaration) = ast::parse(input, &mut errors) else {
        let error = errors.finish().err().unwrap_or_else(|| {
            syn::Error::new(
                proc_macro2::Span::call_site(),
                "unreadable network declaration",
            )
        });
        return Err((error, proc_macro2::TokenStream::new()));
    };
    let model = check::check(&declaration, &mut errors);
    match errors.finish() {
        Ok(()) => Ok(expand::network(&model, expand::Mode::Full)),
        Err(error) => Err((error, expand::network(&model, expand::Mode::Stub))),
    }
}
#[cfg(test)]
mod robustness;
