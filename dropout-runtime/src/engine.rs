//! The batched pass of every network, written once over [`NetworkSpec`](crate::NetworkSpec)
//! and [`Network::layer`]: what the generated `forward_batch` (of a network too large for the
//! sample-parallel lanes) and `forward_batch_masked` run, and what training records for
//! backpropagation. Each layer is one matrix product over its stored panels
//! ([`gemm_forward`]); each site acts on the whole matrix — by a factor in evaluation, by the
//! effect of the rows' masks in training.

use alloc::vec::Vec;

use ndarray::{Array2, ArrayRef2, CowArray, Ix2, LinalgScalar};

use crate::kernel::connected;
use crate::kernel::gemm::{bias_rows, gemm_forward};
use crate::layer::activation::apply_rows;
use crate::{ALPHA_PRIME, Dropout, DropoutKind, Error, Float, Masks, Network};

/// The evaluation pass of a batch (rows are samples).
///
/// # Errors
/// [`Error::BatchWidth`] if `x` does not have the network's input width.
pub fn forward_batch<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
) -> Result<Array2<N::Scalar>, Error>
where
    N::Scalar: LinalgScalar,
{
    crate::shape::check_width(x, N::SPEC.n_inputs)?;
    Ok(forward(net, x, &SiteMode::Eval(&SiteParams::of::<N>(None))))
}

/// The training pass of a batch, row `r` under `masks[r]`.
///
/// # Errors
/// [`Error::BatchWidth`] if `x` does not have the network's input width, [`Error::MaskCount`]
/// unless there is one set of masks per row.
pub fn forward_batch_masked<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    masks: &[N::Masks],
) -> Result<Array2<N::Scalar>, Error>
where
    N::Scalar: LinalgScalar,
{
    crate::shape::check_width(x, N::SPEC.n_inputs)?;
    crate::batch::check_mask_count(x, masks)?;
    let effects = multipliers::<N>(masks, &SiteParams::of::<N>(None));
    Ok(forward(net, x, &SiteMode::Train(&effects)))
}

/// What each dropout site does: its probability (as declared, or overridden) and the factors
/// of the two passes.
#[derive(Clone, Debug)]
pub(crate) struct SiteParams {
    pub sites: Vec<Dropout>,
    pub eval_factor: Vec<f64>,
}

impl SiteParams {
    /// As declared, or with every site's drop probability replaced by `p_override`.
    pub fn of<N: Network>(p_override: Option<f64>) -> Self {
        let scaling = N::SPEC.scaling;
        let sites: Vec<Dropout> = N::SPEC
            .sites()
            .map(
                |(_, _, d)| match p_override.and_then(|p| Dropout::with_p(p).ok()) {
                    Some(other) if d.kind() == DropoutKind::Alpha => other.alpha(),
                    Some(other) if d.kind() == DropoutKind::Gaussian => other.gaussian(),
                    Some(other) => other,
                    None => d,
                },
            )
            .collect();
        let eval_factor = sites.iter().map(|&d| scaling.eval_factor(d)).collect();
        SiteParams { sites, eval_factor }
    }

    /// The keep probability of site `site`.
    #[cfg(feature = "train")]
    pub fn keep(&self, site: usize) -> f64 {
        self.sites.get(site).map_or(1.0, |d| d.keep())
    }

    /// What site `site` does in a training pass to a batch whose mask bits are `bits` (one row
    /// per sample): `a ← a ⊙ scale (+ shift)`.
    pub fn effect<N: Network>(&self, site: usize, bits: &Array2<bool>) -> SiteEffect<N::Scalar> {
        let t = N::Scalar::from_f64;
        let dropout = self.sites.get(site).copied().unwrap_or(Dropout::NONE);
        if dropout.kind() == DropoutKind::Alpha {
            let (scale, shift) = dropout.alpha_affine();
            let (kept, kept_shift, dropped) = (t(scale), t(shift), t(scale * ALPHA_PRIME + shift));
            // Every slot stored, without a branch on the (random) bits: vectorised.
            SiteEffect {
                scale: bits.mapv(|k| if k { kept } else { N::Scalar::ZERO }),
                shift: Some(bits.mapv(|k| if k { kept_shift } else { dropped })),
            }
        } else {
            let factor = t(N::SPEC.scaling.train_factor(dropout));
            SiteEffect {
                scale: bits.mapv(|k| if k { factor } else { N::Scalar::ZERO }),
                shift: None,
            }
        }
    }
}

/// What a site does to a batch in a training pass: multiply by `scale` (mask bit × factor, or
/// Gaussian noise, which is also what the gradient is multiplied by), then add `shift` (alpha
/// dropout).
pub(crate) struct SiteEffect<T> {
    pub scale: Array2<T>,
    pub shift: Option<Array2<T>>,
}

/// What the masks of a batch do in a training pass: one effect per site, and per layer the
/// weight masks of its DropConnect (one row per sample, neuron by neuron), if it has one.
pub(crate) struct Effects<T> {
    pub sites: Vec<SiteEffect<T>>,
    pub weights: Vec<Option<Array2<bool>>>,
}

#[cfg(all(feature = "parallel", feature = "train"))]
impl<T: Clone> Effects<T> {
    /// The effects of the samples `rows` of the batch.
    pub fn rows(&self, rows: core::ops::Range<usize>) -> Self {
        let cut = |a: &Array2<T>| a.slice(ndarray::s![rows.clone(), ..]).to_owned();
        Effects {
            sites: self
                .sites
                .iter()
                .map(|site| SiteEffect {
                    scale: cut(&site.scale),
                    shift: site.shift.as_ref().map(cut),
                })
                .collect(),
            weights: self
                .weights
                .iter()
                .map(|w| {
                    w.as_ref()
                        .map(|w| w.slice(ndarray::s![rows.clone(), ..]).to_owned())
                })
                .collect(),
        }
    }
}

/// How the sites act in a pass: by a scalar (evaluation) or by the masks' effects (training,
/// one row per sample).
pub(crate) enum SiteMode<'a, T> {
    Eval(&'a SiteParams),
    Train(&'a Effects<T>),
}

/// The effects of a batch of masks.
pub(crate) fn multipliers<N: Network>(
    masks: &[N::Masks],
    params: &SiteParams,
) -> Effects<N::Scalar> {
    let sites = N::SPEC
        .sites()
        .enumerate()
        .map(|(site, (_, size, dropout))| {
            if dropout.kind() == DropoutKind::Gaussian {
                let mut noise = Array2::from_elem((masks.len(), size), N::Scalar::ONE);
                for (mut row, set) in noise.rows_mut().into_iter().zip(masks) {
                    for (slot, &e) in row.iter_mut().zip(set.noise(site).unwrap_or(&[])) {
                        *slot = e;
                    }
                }
                return SiteEffect {
                    scale: noise,
                    shift: None,
                };
            }
            let mut bits = Array2::from_elem((masks.len(), size), false);
            for (mut row, set) in bits.rows_mut().into_iter().zip(masks) {
                for (slot, &kept) in row.iter_mut().zip(set.site(site).unwrap_or(&[])) {
                    *slot = kept;
                }
            }
            params.effect::<N>(site, &bits)
        })
        .collect();
    let mut weights: Vec<Option<Array2<bool>>> = alloc::vec![None; N::SPEC.layers.len()];
    for (mask, (_, layer, size, _)) in N::SPEC.connections().enumerate() {
        let mut bits = Array2::from_elem((masks.len(), size), true);
        for (mut row, set) in bits.rows_mut().into_iter().zip(masks) {
            for (slot, &kept) in row.iter_mut().zip(set.connections(mask).unwrap_or(&[])) {
                *slot = kept;
            }
        }
        weights[layer] = Some(bits);
    }
    Effects { sites, weights }
}

/// What the backward pass needs from the forward pass.
pub(crate) struct Tape<T> {
    /// The input of each layer, after the site before it.
    pub inputs: Vec<Array2<T>>,
    /// Each layer's pre-activation.
    pub z: Vec<Array2<T>>,
    /// Each layer's activation, before its site.
    pub g: Vec<Array2<T>>,
    /// What the last layer gives.
    #[cfg(feature = "train")]
    pub output: Array2<T>,
}

impl<T> SiteMode<'_, T> {
    /// Whether site `site` changes its activations in this mode ([`apply_site`] does nothing
    /// where an evaluation factor is 1).
    fn changes(&self, site: usize) -> bool {
        match self {
            SiteMode::Eval(params) => params.eval_factor.get(site).is_some_and(|&f| f != 1.0),
            SiteMode::Train(_) => true,
        }
    }
}

fn apply_site<T: Float + LinalgScalar>(a: &mut Array2<T>, mode: &SiteMode<'_, T>, site: usize) {
    match mode {
        SiteMode::Eval(params) => {
            let factor = params.eval_factor[site];
            if factor != 1.0 {
                a.mapv_inplace(|v| v * T::from_f64(factor));
            }
        }
        SiteMode::Train(effects) => {
            let effect = &effects.sites[site];
            *a *= &effect.scale;
            if let Some(shift) = &effect.shift {
                *a += shift;
            }
        }
    }
}

/// The forward pass of a batch through `net` (rows are samples), recording every layer for
/// backpropagation. The caller has checked that `x` has the network's input width.
#[cfg(feature = "train")]
pub(crate) fn forward_tape<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    mode: &SiteMode<'_, N::Scalar>,
) -> Tape<N::Scalar>
where
    N::Scalar: LinalgScalar,
{
    let mut tape = Tape {
        inputs: Vec::new(),
        z: Vec::new(),
        g: Vec::new(),
        output: Array2::zeros((0, 0)),
    };
    tape.output = run(net, x, mode, Some(&mut tape));
    tape
}

/// The forward pass of a batch through `net`, its output only: the same arithmetic as
/// [`forward_tape`], without the copies a recording needs.
pub(crate) fn forward<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    mode: &SiteMode<'_, N::Scalar>,
) -> Array2<N::Scalar>
where
    N::Scalar: LinalgScalar,
{
    run(net, x, mode, None)
}

/// Every layer of `net` over the batch `x` in `mode`, each a matrix product over the layer's
/// stored panels, its sites applied to whole matrices; recorded on `tape` if there is one.
fn run<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    mode: &SiteMode<'_, N::Scalar>,
    mut tape: Option<&mut Tape<N::Scalar>>,
) -> Array2<N::Scalar>
where
    N::Scalar: LinalgScalar,
{
    let spec = N::SPEC;
    // The sites passed so far: the input's, if it has one.
    let mut site = usize::from(spec.input_dropout.is_some());
    // The batch itself is the first layer's input unless a site changes it first: copying it
    // took a tenth of B1 (784-128-10, 1024 rows).
    let mut a: CowArray<'_, N::Scalar, Ix2> = if site == 1 && mode.changes(0) {
        let mut dropped = x.to_owned();
        apply_site(&mut dropped, mode, 0);
        dropped.into()
    } else {
        x.view().into()
    };
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        let Some(layer) = net.layer(idx) else { break };
        let mut z = bias_rows(layer.biases(), a.nrows());
        match (layer_spec.dropconnect, mode) {
            (Some(d), SiteMode::Train(effects)) => {
                let factor = N::Scalar::from_f64(spec.scaling.train_factor(d));
                if let Some(Some(bits)) = effects.weights.get(idx) {
                    connected_forward(layer, factor, &a, bits, &mut z);
                }
            }
            (dropconnect, _) => {
                let scale = dropconnect.map_or(1.0, |d| spec.scaling.eval_factor(d));
                gemm_forward(
                    layer.storage(),
                    layer.fan_in(),
                    layer.size(),
                    N::Scalar::from_f64(scale),
                    &a,
                    &mut z,
                );
            }
        }
        let site_here = layer_spec.dropout.is_some().then(|| {
            site += 1;
            site - 1
        });
        match tape.as_deref_mut() {
            Some(tape) => {
                let mut g = z.clone();
                apply_rows(layer_spec.activation, &mut g);
                let mut out = g.clone();
                if let Some(site) = site_here {
                    apply_site(&mut out, mode, site);
                }
                tape.inputs
                    .push(core::mem::replace(&mut a, out.into()).into_owned());
                tape.z.push(z);
                tape.g.push(g);
            }
            None => {
                apply_rows(layer_spec.activation, &mut z);
                if let Some(site) = site_here {
                    apply_site(&mut z, mode, site);
                }
                a = z.into();
            }
        }
    }
    a.into_owned()
}

/// `z += (W ⊙ Mᵣ · factor) · aᵣ` for each sample r, with the sums of
/// [`Dense::affine_connected`](crate::Dense::affine_connected).
fn connected_forward<T: Float>(
    layer: &dyn crate::Layer<T>,
    factor: T,
    a: &ArrayRef2<T>,
    bits: &Array2<bool>,
    z: &mut Array2<T>,
) {
    let shape = (layer.fan_in(), layer.size());
    for ((a, bits), mut z) in a.rows().into_iter().zip(bits.rows()).zip(z.rows_mut()) {
        connected(shape, &mut z, &a, &bits, factor, layer.storage());
    }
}
