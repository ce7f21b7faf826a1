//! The data sets of the examples, read from the CSV files beside this module (their sources
//! are in `README.md` here).

use std::error::Error;
use std::path::Path;

use dropout::ndarray::{Array2, Axis, s};
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::seq::SliceRandom as _;

/// scikit-learn's handwritten digits: 1,797 images of 8×8 grey levels scaled to [0, 1], and their
/// digits.
#[allow(dead_code, reason = "each example uses one of the data sets")]
pub fn digits() -> Result<Digits, Box<dyn Error>> {
    load_digits(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.csv"))
}

/// The diabetes data: 442 patients' ten features and disease progression.
#[allow(dead_code, reason = "each example uses one of the data sets")]
pub fn diabetes() -> Result<(Array2<f32>, Vec<f32>), Box<dyn Error>> {
    load_csv(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/diabetes.csv"))
}

/// Reads `diabetes.csv`: a header row, then ten features and the target per line.
#[allow(dead_code, reason = "each example uses one of the data sets")]
fn load_csv(path: &Path) -> Result<(Array2<f32>, Vec<f32>), Box<dyn Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let mut features = Vec::new();
    let mut targets = Vec::new();
    for (line_no, line) in text.lines().enumerate().skip(1) {
        let values: Vec<f32> = line
            .split(',')
            .map(|field| field.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|err| format!("{}:{}: {err}", path.display(), line_no + 1))?;
        let [row @ .., target] = values.as_slice() else {
            continue;
        };
        if row.len() != 10 {
            return Err(format!(
                "{}:{}: expected 11 columns, found {}",
                path.display(),
                line_no + 1,
                values.len()
            )
            .into());
        }
        features.extend_from_slice(row);
        targets.push(*target);
    }
    Ok((
        Array2::from_shape_vec((targets.len(), 10), features)?,
        targets,
    ))
}

/// Images with their pixels scaled to [0, 1], and their digits.
pub type Digits = (Vec<[f32; 64]>, Vec<usize>);

/// Reads `digits.csv`: a header, then 64 grey levels (0–16) and the digit per line; the grey
/// levels scaled to [0, 1].
#[allow(dead_code, reason = "each example uses one of the data sets")]
fn load_digits(path: &Path) -> Result<Digits, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(format!("line {}: {} fields, not 65", n + 1, fields.len()).into());
        }
        let mut row = [0.0f32; 64];
        for (slot, field) in row.iter_mut().zip(&fields) {
            *slot = field.trim().parse::<f32>()? / 16.0;
        }
        x.push(row);
        y.push(fields[64].trim().parse()?);
    }
    Ok((x, y))
}

/// Shuffles the patients with `seed`, keeps `train_size` for training, and standardises
/// features and target with the training set's mean and standard deviation.
#[allow(dead_code, reason = "each example uses one of the data sets")]
pub fn split_and_standardise(
    x: &Array2<f32>,
    y: &[f32],
    train_size: usize,
    seed: u64,
) -> (Array2<f32>, Array2<f32>, Array2<f32>, Array2<f32>) {
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let (train_idx, val_idx) = order.split_at(train_size.min(order.len()));
    let targets = Array2::from_shape_fn((y.len(), 1), |(r, _)| y[r]);
    let (mut train_x, mut val_x) = (x.select(Axis(0), train_idx), x.select(Axis(0), val_idx));
    let (mut train_y, mut val_y) = (
        targets.select(Axis(0), train_idx),
        targets.select(Axis(0), val_idx),
    );
    for (train, val) in [(&mut train_x, &mut val_x), (&mut train_y, &mut val_y)] {
        for col in 0..train.ncols() {
            let mean = train.column(col).mean().unwrap_or(0.0);
            let std = train.column(col).std(0.0).max(1e-6);
            train
                .slice_mut(s![.., col])
                .mapv_inplace(|v| (v - mean) / std);
            val.slice_mut(s![.., col])
                .mapv_inplace(|v| (v - mean) / std);
        }
    }
    (train_x, train_y, val_x, val_y)
}
