//! Superscript digits, for the μ⁰, μ¹, … of the dropout literature.

use core::fmt;

/// Formats a number in superscript digits: `Superscript(12)` prints as `¹²`.
///
/// ```
/// use dropout_shared::Superscript;
///
/// assert_eq!(format!("μ{}", Superscript(0)), "μ⁰");
/// assert_eq!(Superscript(305).to_string(), "³⁰⁵");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Superscript(pub usize);

impl fmt::Display for Superscript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
        if self.0 >= 10 {
            Superscript(self.0 / 10).fmt(f)?;
        }
        fmt::Write::write_char(f, DIGITS[self.0 % 10])
    }
}
