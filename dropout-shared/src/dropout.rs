//! The vocabulary of dropout: a site's probability and kind ([`Dropout`], [`DropoutKind`]) and
//! the two scaling conventions ([`Scaling`]), with the keywords a declaration writes them with.
//!
//! A *dropout site* sits on the neurons of one layer (or on the input). In a training pass each
//! neuron's activation is multiplied by its mask bit μ ∈ {0, 1}; biases are never masked. What
//! happens to the kept units and in evaluation mode is decided by the network's [`Scaling`].

use core::fmt;

/// The probability of a dropout site: `p` drops a unit, `keep = 1 − p` keeps it.
///
/// Both are stored as given or derived once, so that `p = 0.2` prints as `0.2`. Constructed from PyTorch's drop probability with [`Dropout::with_p`] or from the paper's keep
/// probability with [`Dropout::with_keep`]. A site must keep something: `p = 1` is rejected.
///
/// # Example
/// ```
/// use dropout_shared::Dropout;
///
/// let d = Dropout::with_p(0.25)?;
/// assert_eq!(d.keep(), 0.75);
/// assert_eq!(d, Dropout::with_keep(0.75)?);
/// assert!(Dropout::with_p(1.0).is_err());
/// # Ok::<(), dropout_shared::ProbabilityError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f64,
    keep: f64,
    kind: DropoutKind,
}

/// What a site does to the units it drops and keeps.
///
/// | kind | declared as | training pass, unit kept | unit dropped | evaluation |
/// |---|---|---|---|---|
/// | [`Standard`](DropoutKind::Standard) | `dropout(p = …)` | a (× 1/keep under `inverted` scaling) | 0 | a (× keep under `classic`) |
/// | [`Alpha`](DropoutKind::Alpha) | `alpha_dropout(p = …)` | A·a + B | A·α′ + B | a |
/// | [`Connect`](DropoutKind::Connect) | `dense … dropconnect(p = …)` | weight w (× 1/keep under `inverted`) | 0 | w (× keep under `classic`) |
/// | [`Gaussian`](DropoutKind::Gaussian) | `gaussian_dropout(p = …)` | a · ε, ε ~ N(1, p/(1 − p)) | — | a |
///
/// Alpha dropout (Klambauer et al. 2017; PyTorch's `AlphaDropout`) sets dropped units to SELU's
/// negative saturation α′ = −λα = −1.7580993408473766 and then maps every unit by A·x + B with
/// A = ((1 − p)(1 + p·α′²))^(−1/2) and B = −A·α′·p, which keeps a mean of 0 and a variance of
/// 1 — the fixed point of SELU networks. It ignores the scaling convention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DropoutKind {
    /// Dropped units become 0: `dropout(…)`.
    #[default]
    Standard,
    /// Dropped units become α′, then an affine map restores mean and variance:
    /// `alpha_dropout(…)`.
    Alpha,
    /// DropConnect (Wan et al. 2013): the mask is on a layer's weights, not on units; a
    /// dropped weight is 0 in that pass, biases are never dropped. Kept weights are scaled as
    /// kept units are under [`Standard`](DropoutKind::Standard): `dense … dropconnect(…)`.
    Connect,
    /// Gaussian dropout (Srivastava et al. 2014, §10; Keras's `GaussianDropout`): every unit is
    /// multiplied by noise ε ~ N(1, σ²) with σ² = p/(1 − p), the variance of inverted unit
    /// dropout's multiplier; nothing is dropped and evaluation is the identity, whatever the
    /// scaling: `gaussian_dropout(…)`. Its masks are the noise, `[T; N]`.
    Gaussian,
}

impl DropoutKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [DropoutKind; 4] = [
        DropoutKind::Standard,
        DropoutKind::Alpha,
        DropoutKind::Gaussian,
        DropoutKind::Connect,
    ];

    /// The keyword that declares a site of this kind: `dropout`, `alpha_dropout`,
    /// `gaussian_dropout`, `dropconnect`.
    ///
    /// ```
    /// use dropout_shared::DropoutKind;
    ///
    /// assert_eq!(DropoutKind::from_keyword("alpha_dropout"), Some(DropoutKind::Alpha));
    /// assert_eq!(DropoutKind::Connect.keyword(), "dropconnect");
    /// ```
    pub const fn keyword(self) -> &'static str {
        match self {
            DropoutKind::Standard => "dropout",
            DropoutKind::Alpha => "alpha_dropout",
            DropoutKind::Connect => "dropconnect",
            DropoutKind::Gaussian => "gaussian_dropout",
        }
    }

    /// The name of the enum variant, for code that names it: `Connect`.
    pub const fn variant(self) -> &'static str {
        match self {
            DropoutKind::Standard => "Standard",
            DropoutKind::Alpha => "Alpha",
            DropoutKind::Connect => "Connect",
            DropoutKind::Gaussian => "Gaussian",
        }
    }

    /// The kind a keyword declares.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.keyword() == keyword)
    }

    /// Whether the mask is on a layer's weights (DropConnect) rather than on units.
    pub const fn on_weights(self) -> bool {
        matches!(self, DropoutKind::Connect)
    }

    /// Whether the mask is noise (`[T; N]`) rather than bits (`[bool; N]`).
    pub const fn is_noise(self) -> bool {
        matches!(self, DropoutKind::Gaussian)
    }

    /// The activation the units of the site must come from, if the kind needs one: alpha
    /// dropout keeps SELU's fixed point and is meaningless after anything else (the input,
    /// whose distribution the network does not choose, is allowed).
    pub const fn needs_activation(self) -> Option<crate::Activation> {
        match self {
            DropoutKind::Alpha => Some(crate::Activation::Selu),
            _ => None,
        }
    }

    /// The constructor that `network!` writes for a checked site of this kind.
    pub const fn checked(self, p: f64, keep: f64) -> Dropout {
        Dropout {
            p,
            keep,
            kind: self,
        }
    }
}

/// SELU's negative saturation α′ = −λα, which alpha dropout gives dropped units.
pub const ALPHA_PRIME: f64 = -1.758_099_340_847_376_6;

impl Dropout {
    /// A site that keeps every unit (`p = 0`).
    pub const NONE: Dropout = Dropout {
        p: 0.0,
        keep: 1.0,
        kind: DropoutKind::Standard,
    };

    /// The smallest keep probability: 1/keep must be finite in `f32`.
    pub const MIN_KEEP: f64 = crate::MIN_KEEP;

    /// A site that drops each unit with probability `p` (PyTorch's `nn.Dropout(p)`).
    ///
    /// # Errors
    /// [`ProbabilityError`] unless `0 ≤ p < 1`.
    pub fn with_p(p: f64) -> Result<Self, ProbabilityError> {
        if (0.0..1.0).contains(&p) {
            Ok(Dropout {
                p,
                keep: 1.0 - p,
                kind: DropoutKind::Standard,
            })
        } else {
            Err(ProbabilityError {
                name: "p",
                value: p,
            })
        }
    }

    /// A site that keeps each unit with probability `keep` (Srivastava et al.'s `p`).
    ///
    /// # Errors
    /// [`ProbabilityError`] unless `0 < keep ≤ 1`, and unless 1/keep, the training scale of
    /// kept units under `inverted` scaling, is finite in `f32` (keep ≥
    /// [`Dropout::MIN_KEEP`], about 1.18e-38, the smallest normal `f32`).
    pub fn with_keep(keep: f64) -> Result<Self, ProbabilityError> {
        if (Self::MIN_KEEP..=1.0).contains(&keep) {
            Ok(Dropout {
                p: 1.0 - keep,
                keep,
                kind: DropoutKind::Standard,
            })
        } else {
            Err(ProbabilityError {
                name: "keep",
                value: keep,
            })
        }
    }

    /// The probability that a unit is kept.
    pub const fn keep(self) -> f64 {
        self.keep
    }

    /// The probability that a unit is dropped.
    pub const fn p(self) -> f64 {
        self.p
    }

    /// What the site does to dropped and kept units.
    pub const fn kind(self) -> DropoutKind {
        self.kind
    }

    /// The same probability as alpha dropout ([`DropoutKind::Alpha`]).
    ///
    /// ```
    /// use dropout_shared::{Dropout, DropoutKind};
    ///
    /// let site = Dropout::with_p(0.1)?.alpha();
    /// assert_eq!(site.kind(), DropoutKind::Alpha);
    /// assert_eq!(site.to_string(), "alpha_dropout(p = 0.1)");
    /// let (a, b) = site.alpha_affine();
    /// // A kept unit maps by a·x + b, a dropped one to a·α′ + b: mean 0, variance 1 kept.
    /// assert!((a - 1.0 / (0.9_f64 * (1.0 + 0.1 * 1.758_099_340_847_376_6_f64.powi(2))).sqrt()).abs() < 1e-15);
    /// assert!((b - a * 1.758_099_340_847_376_6 * 0.1).abs() < 1e-15);
    /// # Ok::<(), dropout_shared::ProbabilityError>(())
    /// ```
    #[must_use]
    pub const fn alpha(self) -> Self {
        Dropout {
            kind: DropoutKind::Alpha,
            ..self
        }
    }

    /// The same probability as DropConnect on a layer's weights ([`DropoutKind::Connect`]).
    ///
    /// ```
    /// use dropout_shared::{Dropout, DropoutKind, Scaling};
    ///
    /// let weights = Dropout::with_p(0.5)?.connect();
    /// assert_eq!(weights.kind(), DropoutKind::Connect);
    /// assert_eq!(weights.to_string(), "dropconnect(p = 0.5)");
    /// // Kept weights are scaled as kept units are.
    /// assert_eq!(Scaling::Inverted.train_factor(weights), 2.0);
    /// assert_eq!(Scaling::Classic.eval_factor(weights), 0.5);
    /// # Ok::<(), dropout_shared::ProbabilityError>(())
    /// ```
    #[must_use]
    pub const fn connect(self) -> Self {
        Dropout {
            kind: DropoutKind::Connect,
            ..self
        }
    }

    /// The same probability as Gaussian dropout ([`DropoutKind::Gaussian`]).
    ///
    /// ```
    /// use dropout_shared::{Dropout, DropoutKind};
    ///
    /// let site = Dropout::with_p(0.2)?.gaussian();
    /// assert_eq!(site.kind(), DropoutKind::Gaussian);
    /// assert_eq!(site.to_string(), "gaussian_dropout(p = 0.2)");
    /// // σ² = p / (1 − p) = 0.25.
    /// assert!((site.gaussian_std() - 0.5).abs() < 1e-15);
    /// # Ok::<(), dropout_shared::ProbabilityError>(())
    /// ```
    #[must_use]
    pub const fn gaussian(self) -> Self {
        Dropout {
            kind: DropoutKind::Gaussian,
            ..self
        }
    }

    /// Gaussian dropout's standard deviation σ = √(p / (1 − p)).
    pub fn gaussian_std(self) -> f64 {
        libm::sqrt(self.p / self.keep)
    }

    /// Alpha dropout's affine map (A, B): a kept unit x becomes A·x + B, a dropped one
    /// A·α′ + B.
    pub fn alpha_affine(self) -> (f64, f64) {
        let a = 1.0 / libm::sqrt(self.keep * (1.0 + self.p * ALPHA_PRIME * ALPHA_PRIME));
        (a, -a * ALPHA_PRIME * self.p)
    }
}

impl fmt::Display for Dropout {
    /// Formats the site as it is declared: `dropout(p = 0.5)`, or `dropout(keep = 0.8)` when the
    /// keep probability is the shorter number. Either form reads back to the same site.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Len(usize);
        impl fmt::Write for Len {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 += s.len();
                Ok(())
            }
        }
        let len = |v: f64| {
            let mut counter = Len(0);
            let _ = fmt::Write::write_fmt(&mut counter, format_args!("{v:?}"));
            counter.0
        };
        let keyword = self.kind.keyword();
        if len(self.keep) < len(self.p) {
            write!(f, "{keyword}(keep = {:?})", self.keep)
        } else {
            write!(f, "{keyword}(p = {:?})", self.p)
        }
    }
}

/// How kept units are scaled in training and what evaluation mode does.
///
/// | convention | training pass (mask μ)      | evaluation pass |
/// |------------|-----------------------------|-----------------|
/// | `Inverted` | a · μ / keep                | a               |
/// | `Classic`  | a · μ                       | a · keep        |
///
/// Both make the evaluation pass equal the expected training activation of each unit.
/// `Inverted` is PyTorch's convention and the default; `Classic` is that of Srivastava et al. (2014)
/// and of hand calculations such as "Comprehend Dropout".
///
/// # Example
/// ```
/// use dropout_shared::{Dropout, Scaling};
///
/// let half = Dropout::with_p(0.5)?;
/// assert_eq!(Scaling::Inverted.train_factor(half), 2.0);
/// assert_eq!(Scaling::Inverted.eval_factor(half), 1.0);
/// assert_eq!(Scaling::Classic.train_factor(half), 1.0);
/// assert_eq!(Scaling::Classic.eval_factor(half), 0.5);
/// # Ok::<(), dropout_shared::ProbabilityError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scaling {
    /// Kept units are scaled by 1/keep while training; evaluation is the identity.
    #[default]
    Inverted,
    /// Training multiplies by the raw mask; evaluation multiplies by the keep probability.
    Classic,
}

impl Scaling {
    /// The factor that multiplies a kept unit in a training pass (1 for alpha dropout, whose
    /// training pass is its own affine map, and for Gaussian dropout, whose noise has mean 1).
    pub fn train_factor(self, dropout: Dropout) -> f64 {
        match (self, dropout.kind) {
            (_, DropoutKind::Alpha | DropoutKind::Gaussian) | (Scaling::Classic, _) => 1.0,
            (Scaling::Inverted, _) => 1.0 / dropout.keep,
        }
    }

    /// The factor that multiplies every unit in an evaluation pass (1 for alpha and Gaussian
    /// dropout, whose evaluation passes are the identity).
    pub fn eval_factor(self, dropout: Dropout) -> f64 {
        match (self, dropout.kind) {
            (_, DropoutKind::Alpha | DropoutKind::Gaussian) | (Scaling::Inverted, _) => 1.0,
            (Scaling::Classic, _) => dropout.keep,
        }
    }

    /// Both conventions, in the order error messages list them.
    pub const ALL: [Scaling; 2] = [Scaling::Inverted, Scaling::Classic];

    /// The name used in `network!` declarations (`scaling: classic`).
    ///
    /// ```
    /// use dropout_shared::Scaling;
    ///
    /// assert_eq!(Scaling::from_name("classic"), Some(Scaling::Classic));
    /// assert_eq!(Scaling::Inverted.name(), "inverted");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Scaling::Inverted => "inverted",
            Scaling::Classic => "classic",
        }
    }

    /// The name of the enum variant, for code that names it: `Classic`.
    pub const fn variant(self) -> &'static str {
        match self {
            Scaling::Inverted => "Inverted",
            Scaling::Classic => "Classic",
        }
    }

    /// The convention a declaration's name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scaling| scaling.name() == name)
    }
}

impl fmt::Display for Scaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A probability outside its range, from [`Dropout::with_p`] or [`Dropout::with_keep`].
///
/// ```
/// use dropout_shared::Dropout;
///
/// let err = Dropout::with_p(1.0).unwrap_err();
/// assert_eq!(err.to_string(), "p must lie in [0, 1), found 1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbabilityError {
    /// Which probability: `"p"` (drop) or `"keep"`.
    pub name: &'static str,
    /// The rejected value.
    pub value: f64,
}

impl fmt::Display for ProbabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ProbabilityError { name, value } = *self;
        match name {
            "keep" if value > 0.0 && value < crate::MIN_KEEP => write!(
                f,
                "keep = {value:e} is so small that 1/keep, the training scale of kept units, overflows f32 as soon as an activation reaches 4; keep must be at least {:.2e} (the smallest normal f32)",
                crate::MIN_KEEP
            ),
            "keep" => write!(f, "keep must lie in (0, 1], found {value}"),
            _ => write!(f, "{name} must lie in [0, 1), found {value}"),
        }
    }
}

impl core::error::Error for ProbabilityError {}
