//! Numbers in the network's scalar type: literals read the way rustc reads them, file values
//! rounded the same way, and their bytes.

use super::Checker;
use crate::ast::{self, Value};
use crate::model::{Num, Scalar};

/// Parses decimal text the way rustc reads a literal of `scalar`; `None` if the value is not
/// finite in that type.
pub(super) fn parse(scalar: Scalar, text: &str) -> Option<f64> {
    match scalar {
        Scalar::F32 => text
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .map(f64::from),
        Scalar::F64 => text.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// `value` rounded to `scalar`; `None` if it is not finite there.
pub(super) fn round(scalar: Scalar, value: f64) -> Option<f64> {
    let rounded = match scalar {
        Scalar::F32 => f64::from(value as f32),
        Scalar::F64 => value,
    };
    rounded.is_finite().then_some(rounded)
}

/// `value` (already rounded to `scalar`) as little-endian bytes.
pub(super) fn le_bytes(scalar: Scalar, value: f64) -> Vec<u8> {
    match scalar {
        Scalar::F32 => (value as f32).to_le_bytes().to_vec(),
        Scalar::F64 => value.to_le_bytes().to_vec(),
    }
}

/// The value of little-endian `bytes` of `scalar`'s width.
pub(super) fn decode_le(scalar: Scalar, bytes: &[u8]) -> f64 {
    match scalar {
        Scalar::F32 => f64::from(f32::from_le_bytes(bytes.try_into().unwrap_or_default())),
        Scalar::F64 => f64::from_le_bytes(bytes.try_into().unwrap_or_default()),
    }
}

impl Checker<'_> {
    /// A list of `len` numbers; `message` receives the length found.
    pub(super) fn vector(
        &mut self,
        value: &Value,
        len: usize,
        message: impl FnOnce(usize) -> String,
    ) -> Option<Vec<Num>> {
        let Value::List(list) = value else {
            self.expected(value, "a list `[…]` of numbers");
            return None;
        };
        let numbers: Option<Vec<Num>> = list
            .items
            .iter()
            .map(|v| self.number(v))
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        if list.items.len() != len {
            self.errors.at(list.span, message(list.items.len()));
            return None;
        }
        numbers
    }

    /// A finite number of the scalar type.
    pub(super) fn number(&mut self, value: &Value) -> Option<Num> {
        let number = match value {
            Value::Number(number) => number,
            Value::Invalid => return None,
            other => {
                self.not_a_number(other);
                return None;
            }
        };
        let scalar = self.scalar.name();
        let suffix = number.suffix();
        if !suffix.is_empty() && suffix != scalar {
            self.errors.spanned(
                number,
                format!(
                    "literal suffix `{suffix}` does not match the network's scalar type `{scalar}`"
                ),
            );
            return None;
        }
        // The literal's own span: the generated literal stands where the user's number did.
        let span = match &number.lit {
            ast::NumberLit::Int(lit) => lit.span(),
            ast::NumberLit::Float(lit) => lit.span(),
        };
        match parse(self.scalar, &number.text()) {
            Some(value) => Some(Num { value, span }),
            None => {
                self.errors.spanned(
                    number,
                    format!(
                        "`{}` overflows {scalar}: values must be finite {scalar}s",
                        number.text()
                    ),
                );
                None
            }
        }
    }

    fn not_a_number(&mut self, value: &Value) {
        let Some(span) = value.span() else {
            return;
        };
        let non_finite = matches!(value, Value::Ident(i)
            if ["inf", "NaN", "nan", "infinity"].contains(&i.to_string().as_str()));
        let extra = if non_finite {
            "; values must be finite"
        } else {
            ""
        };
        self.errors.at(
            span,
            format!("expected a number, found {}{extra}", value.describe()),
        );
    }
}
