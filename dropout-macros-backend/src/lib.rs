//! The `network!` macro of the [`dropout-nn`](https://docs.rs/dropout-nn) crate, as ordinary functions
//! over `proc_macro2` tokens. `dropout-macros` is the thin `proc-macro` crate that calls
//! [`expand`]; keeping the work here lets tests and benchmarks link it and run it without a
//! compiler around it.
//!
//! A declaration goes through four stages, each using only the ones before it:
//!
//! | stage | module | takes | gives |
//! |---|---|---|---|
//! | parse | `ast` | tokens | the syntax tree, keeping every token for error spans; syntax errors only |
//! | check | `check` | the syntax tree | the model; every rule about sizes, numbers and files, all errors collected |
//! | model | `model` | — | checked data: sizes as `usize`, numbers as values of the scalar type |
//! | expand | `expand` | the model | the generated items, or after errors a stub with the same signatures |

mod ast;
mod check;
mod errors;
mod expand;
mod model;
mod suggest;

use proc_macro2::TokenStream;

/// The whole macro: the generated items, or `compile_error!`s followed by a stub of the
/// declared API (so that the user's other code does not drown in follow-on errors).
#[must_use]
pub fn expand(input: TokenStream) -> TokenStream {
    match try_expand(input) {
        Ok(tokens) => tokens,
        Err(Rejected { errors, stub }) => {
            let mut tokens = errors.into_compile_error();
            tokens.extend(stub);
            tokens
        }
    }
}

/// A declaration that does not compile: every problem found, and the stub to emit beside them.
#[derive(Debug)]
pub struct Rejected {
    /// Every error, combined; iterate over it for the single errors and their spans.
    pub errors: syn::Error,
    /// The declared structs with their methods' signatures and unreachable bodies; empty when
    /// the declaration's header was unreadable.
    pub stub: TokenStream,
}

/// Parses, checks and expands a declaration.
///
/// # Errors
/// [`Rejected`] with every problem of the declaration, each spanned at the tokens it concerns.
pub fn try_expand(input: TokenStream) -> Result<TokenStream, Rejected> {
    let mut errors = errors::Errors::default();
    let Some(declaration) = ast::parse(input, &mut errors) else {
        let errors = errors.finish().err().unwrap_or_else(|| {
            syn::Error::new(
                proc_macro2::Span::call_site(),
                "unreadable network declaration",
            )
        });
        return Err(Rejected {
            errors,
            stub: TokenStream::new(),
        });
    };
    let model = check::check(&declaration, &mut errors);
    match errors.finish() {
        Ok(()) => Ok(expand::network(&model, expand::Mode::Full)),
        Err(errors) => Err(Rejected {
            errors,
            stub: expand::network(&model, expand::Mode::Stub),
        }),
    }
}
