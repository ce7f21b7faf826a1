//! The whole macro as functions over `proc_macro2` tokens, so that tests and benchmarks can run
//! it without a compiler around it.

use crate::{ast, check, errors, expand};

/// The whole macro as a function over `proc_macro2` tokens: the generated items, or
/// `compile_error!`s followed by a stub of the declared API.
pub(crate) fn expand_network(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
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
pub(crate) fn try_expand(
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
