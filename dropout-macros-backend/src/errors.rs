//! Collects every error of a declaration so that one build reports all of them.

use std::fmt::Display;

use proc_macro2::{Punct, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;

/// The tokens from `first` to `last`, for an error that underlines all of them.
///
/// `Span::join` only works on nightly compilers, so a range is carried as its two ends: as
/// tokens it is two punctuation marks with those spans, from which `syn::Error::new_spanned`
/// builds an error that rustc shows over the whole range.
#[derive(Clone, Copy)]
pub(crate) struct SpanRange {
    pub first: Span,
    pub last: Span,
}

impl From<Span> for SpanRange {
    fn from(span: Span) -> Self {
        SpanRange {
            first: span,
            last: span,
        }
    }
}

impl ToTokens for SpanRange {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for (ch, span) in [('<', self.first), ('>', self.last)] {
            let mut punct = Punct::new(ch, Spacing::Alone);
            punct.set_span(span);
            tokens.extend([TokenTree::Punct(punct)]);
        }
    }
}

/// The errors found so far, combined into one `syn::Error` (serde's `Ctxt` does the same).
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// An error underlining every token of `tokens`.
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error over `range`: one token, a group (whose span covers it all), or a
    /// [`SpanRange`].
    pub fn at(&mut self, range: impl Into<SpanRange>, message: impl Display) {
        self.push(syn::Error::new_spanned(range.into(), message));
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
