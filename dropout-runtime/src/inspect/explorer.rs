//! An interactive page for one network: click units away and watch the pass change.
//!
//! [`Explorer::html`] writes one self-contained HTML file (no network access, no external
//! script, style or font) that draws the network as [`diagram`](crate::diagram) does, shows the
//! layer-by-layer table of [`Trace`](crate::Trace) for the current input and masks, and the
//! exact distribution of the output over every mask next to a Monte Carlo estimate that grows as
//! the learner samples masks. The state — input, masks, mode, seed — lives in the URL fragment,
//! so a link reproduces what the learner saw.
//!
//! Every number on the page is computed by this crate: the page embeds the network (every
//! parameter, bit for bit) and a WebAssembly build of the crate's own passes, trace, exact
//! enumeration and mask sampler (the `dropout-explorer` crate, over
//! `dropout_runtime::__page`). The page's script only sends the learner's clicks to that module
//! and draws the view it answers. So the masks of seed `s` on the page are the masks
//! [`Network::sample_masks`] draws from `ChaCha8Rng::seed_from_u64(s)`, for any seed, and the
//! table is the text of [`Trace`](crate::Trace)'s `Display`. Networks with DropConnect show their
//! weight masks (drawn by sampling; the page toggles units), Gaussian sites their noise.
//!
//! In the WebAssembly build, `exp`, `tanh` and the other transcendental functions are `libm`'s,
//! which can differ from the platform's in the last bit: invisible at the table's six
//! significant digits, except rarely.

use alloc::format;
use alloc::string::String;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::page;
use crate::{Error, Masks, Network};

/// The most droppable units whose every mask the page enumerates (2¹⁶ passes).
pub const MAX_EXPLORER_UNITS: usize = page::MAX_EXACT_UNITS;

/// The most units in one layer that the page draws.
pub const MAX_DRAWN_UNITS: usize = 64;

/// The page's WebAssembly module, built from the `dropout-explorer` crate by
/// `tools/explorer_wasm.sh` (which `.ci/run` uses to check that these bytes are its build).
const MODULE: &[u8] = include_bytes!("explorer.wasm");

/// A page in the making: the network, the input, and the state the page opens in.
///
/// # Example
/// ```
/// use dropout::toy::{Toy, ToyMasks};
///
/// let article = ToyMasks {
///     input: [true, true],
///     h1: [true, false, true],
///     h2: [true, true, false],
///     h3: [true, true],
/// };
/// let page = Toy::new().explorer(&[1.0, 1.0]).masks(&article).html()?;
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// // Self-contained: no script, style or font from anywhere else.
/// assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
/// # Ok::<(), dropout::Error>(())
/// ```
pub struct Explorer<'a, N: Network> {
    net: &'a N,
    x: &'a N::Input,
    masks: N::Masks,
    training: bool,
    seed: u64,
}

impl<'a, N: Network> Explorer<'a, N> {
    /// A page for `net` at input `x`, opening on the evaluation pass (the network as it
    /// predicts), with every unit kept for the training pass one click away.
    pub fn new(net: &'a N, x: &'a N::Input) -> Self {
        Explorer {
            net,
            x,
            masks: N::Masks::ALL_KEPT,
            training: false,
            seed: 1,
        }
    }

    /// Opens the page on the training pass under these masks (unit bits, Gaussian noise and
    /// DropConnect's weight bits alike).
    #[must_use]
    pub fn masks(mut self, masks: &N::Masks) -> Self {
        self.masks = *masks;
        self.training = true;
        self
    }

    /// Opens the page on the evaluation pass (the default; after [`masks`](Self::masks), the
    /// masks stay set for the training pass).
    #[must_use]
    pub fn evaluation(mut self) -> Self {
        self.training = false;
        self
    }

    /// The seed of the page's first "sample masks" (the page shows it, and counts up). The
    /// masks of seed `s` are those [`Network::sample_masks`] draws from
    /// `ChaCha8Rng::seed_from_u64(s)`.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The page.
    ///
    /// # Errors
    /// [`Error::TooLargeToDraw`] if a layer has more than [`MAX_DRAWN_UNITS`] units.
    pub fn html(&self) -> Result<String, Error> {
        let spec = N::SPEC;
        let widest = spec
            .layers
            .iter()
            .map(|l| l.size)
            .chain([spec.n_inputs])
            .max()
            .unwrap_or(0);
        if widest > MAX_DRAWN_UNITS {
            return Err(Error::TooLargeToDraw {
                units: widest,
                max: MAX_DRAWN_UNITS,
            });
        }
        let network = page::encode(self.net, self.x, &self.masks, self.training, self.seed);
        let title = escape(spec.name);
        let (module, network) = (STANDARD.encode(MODULE), STANDARD.encode(network));
        Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title} · dropout explorer</title>\n<style>\n{STYLE}</style>\n</head>\n\
             <body>\n{BODY}\n<script>\nconst MODULE = \"{module}\";\nconst NETWORK = \"{network}\";\n\
             {SCRIPT}</script>\n</body>\n</html>\n",
        ))
    }

    /// Writes the page to `path`, replacing the file only once it is complete.
    ///
    /// # Errors
    /// [`Error::TooLargeToDraw`] as [`Explorer::html`]; [`Error::Io`] if the file
    /// cannot be written.
    #[cfg(feature = "std")]
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::fs::write_atomically(path.as_ref(), self.html()?.as_bytes())
    }
}

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const STYLE: &str = include_str!("explorer.css");
const BODY: &str = include_str!("explorer.html");
const SCRIPT: &str = include_str!("explorer.js");
