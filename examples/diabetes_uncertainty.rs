//! Monte Carlo dropout's predictive uncertainty on a regression, measured as Gal and Ghahramani
//! (2016) measure it on the UCI sets: over 20 random splits of the diabetes data (90 % to train,
//! 10 % to test), the test RMSE and the test log-likelihood of the deterministic evaluation pass
//! and of MC dropout (T = 100 sampled masks), the model precision τ chosen on a validation fifth
//! of each training split; mean ± standard error over the splits. Targets are standardised with
//! each training split's mean and standard deviation, so RMSE and log-likelihood are in those
//! units.
//!
//! ```text
//! cargo run --release --example diabetes_uncertainty
//! ```

#[path = "data/mod.rs"]
mod datasets;

use std::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

use dropout::ndarray::{Array2, s};
use dropout::network;
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::train::{Loss, Optimizer, Trainer};
use dropout::uncertainty as u;

network! {
    /// Ten clinical variables to disease progression: one hidden layer of 50 units, as Gal's
    /// experiments, with dropout on it.
    pub struct Progression<f32> {
        input: 10,
        dense 50 relu, dropout(p = 0.1),
        dense 1 identity,
    }
}

const SPLITS: u64 = 20;
const EPOCHS: usize = 200;
const PASSES: usize = 100;
/// The model precisions τ tried on each validation fifth.
const TAUS: [f64; 8] = [0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    println!("{}", Progression::SPEC);
    print!("{}", table(&experiment()?));
    Ok(())
}

/// Per split: (RMSE, test log-likelihood) of the deterministic pass, then of MC dropout.
type Results = Vec<[[f64; 2]; 2]>;

/// The README's table: mean ± standard error over the splits.
fn table(results: &Results) -> String {
    let n = results.len() as f64;
    let stat = |pass: usize, k: usize| {
        let v: Vec<f64> = results.iter().map(|r| r[pass][k]).collect();
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    };
    let mut out = String::from("| pass | test RMSE | test log-likelihood |\n|---|---|---|\n");
    for (pass, name) in ["deterministic", &format!("MC dropout, T = {PASSES}")]
        .iter()
        .enumerate()
    {
        let ((r, r_se), (l, l_se)) = (stat(pass, 0), stat(pass, 1));
        let _ = writeln!(out, "| {name} | {r:.3} ± {r_se:.3} | {l:.3} ± {l_se:.3} |");
    }
    out
}

fn experiment() -> Result<Results, Box<dyn Error>> {
    let (x, y) = datasets::diabetes()?;
    let train_size = x.nrows() * 9 / 10;
    let mut results = Vec::new();
    for split in 0..SPLITS {
        let (train_x, train_y, test_x, test_y) =
            datasets::split_and_standardise(&x, &y, train_size, split);
        // The last fifth of the training split chooses τ; the rest trains.
        let fit = train_x.nrows() * 4 / 5;
        let mut net = Progression::init(&mut ChaCha8Rng::seed_from_u64(split));
        Trainer::new(Optimizer::adam(1e-3), Loss::MeanSquaredError)
            .epochs(EPOCHS)
            .batch_size(32)
            .seed(split)
            .fit(
                &mut net,
                (
                    &train_x.slice(s![..fit, ..]).to_owned(),
                    &train_y.slice(s![..fit, ..]).to_owned(),
                ),
                None,
                |_| {},
            )?;
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + split);
        let samples = |x: &Array2<f32>, rng: &mut ChaCha8Rng, mc: bool| -> Vec<Vec<f64>> {
            x.rows()
                .into_iter()
                .map(|row| {
                    let input: [f32; 10] = std::array::from_fn(|i| row[i]);
                    if mc {
                        (0..PASSES)
                            .map(|_| {
                                let masks = net.sample_masks(rng);
                                f64::from(net.forward_masked(&input, &masks)[0])
                            })
                            .collect()
                    } else {
                        vec![f64::from(net.forward(&input)[0])]
                    }
                })
                .collect()
        };
        let column = |y: &Array2<f32>| -> Vec<f64> { y.iter().map(|&v| f64::from(v)).collect() };
        let (val_x, val_y) = (
            train_x.slice(s![fit.., ..]).to_owned(),
            column(&train_y.slice(s![fit.., ..]).to_owned()),
        );
        let mut split_results = [[0.0; 2]; 2];
        for (pass, mc) in [false, true].into_iter().enumerate() {
            let val = samples(&val_x, &mut rng, mc);
            let val_views: Vec<&[f64]> = val.iter().map(Vec::as_slice).collect();
            let mut best = (f64::NEG_INFINITY, TAUS[0]);
            for tau in TAUS {
                let ll = u::test_log_likelihood(&val_views, &val_y, tau)?;
                if ll > best.0 {
                    best = (ll, tau);
                }
            }
            let test = samples(&test_x, &mut rng, mc);
            let views: Vec<&[f64]> = test.iter().map(Vec::as_slice).collect();
            let targets = column(&test_y);
            let means: Vec<f64> = views
                .iter()
                .map(|s| u::predictive_moments(s, best.1).map(|m| m.0))
                .collect::<Result<_, _>>()?;
            split_results[pass] = [
                u::root_mean_squared_error(&means, &targets)?,
                u::test_log_likelihood(&views, &targets, best.1)?,
            ];
        }
        results.push(split_results);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_table_is_what_the_example_computes() {
        let results = super::experiment().unwrap();
        assert_eq!(results.len(), 20);
        let table = super::table(&results);
        assert!(
            include_str!("../README.md").contains(&table),
            "README.md lacks\n{table}"
        );
    }
}
