//! `dropout::uncertainty` against numpy on random Monte Carlo outputs
//! (`tools/uncertainty_fixture.py` writes them and numpy's values).

use dropout::uncertainty as u;

#[path = "fixtures/uncertainty.rs"]
mod fixture;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn classifier_measures_are_numpys() {
    let mut means = Vec::new();
    for (i, passes) in fixture::PASSES.iter().enumerate() {
        let passes: Vec<&[f64]> = passes.iter().map(|p| &p[..]).collect();
        let h = u::predictive_entropy(&passes).unwrap();
        let mi = u::mutual_information(&passes).unwrap();
        let vr = u::variation_ratio(&passes).unwrap();
        assert!(
            close(h, fixture::ENTROPY[i]),
            "{i}: entropy {h} vs {}",
            fixture::ENTROPY[i]
        );
        assert!(close(mi, fixture::MUTUAL_INFORMATION[i]), "{i}: MI {mi}");
        assert!(
            close(vr, fixture::VARIATION_RATIO[i]),
            "{i}: variation ratio {vr}"
        );
        means.push(u::mean_probabilities(&passes).unwrap());
    }
    let probs: Vec<&[f64]> = means.iter().map(|m| &m[..]).collect();
    let labels = &fixture::LABELS;
    assert!(close(
        u::accuracy(&probs, labels).unwrap(),
        fixture::ACCURACY
    ));
    assert!(close(
        u::negative_log_likelihood(&probs, labels).unwrap(),
        fixture::NLL
    ));
    assert!(close(
        u::brier_score(&probs, labels).unwrap(),
        fixture::BRIER
    ));
    let ece = u::expected_calibration_error(&probs, labels, 15).unwrap();
    assert!(
        close(ece, fixture::ECE_15),
        "ECE {ece} vs {}",
        fixture::ECE_15
    );
    let counts: Vec<usize> = u::reliability(&probs, labels, 15)
        .unwrap()
        .iter()
        .map(|bin| bin.count)
        .collect();
    assert_eq!(counts, fixture::BIN_COUNTS);
}

#[test]
fn regression_measures_are_numpys() {
    let samples: Vec<&[f64]> = fixture::SAMPLES.iter().map(|s| &s[..]).collect();
    let means: Vec<f64> = samples
        .iter()
        .map(|s| u::predictive_moments(s, fixture::TAU).unwrap().0)
        .collect();
    let rmse = u::root_mean_squared_error(&means, &fixture::TARGETS).unwrap();
    assert!(close(rmse, fixture::RMSE), "{rmse}");
    let ll = u::test_log_likelihood(&samples, &fixture::TARGETS, fixture::TAU).unwrap();
    assert!(
        close(ll, fixture::TEST_LOG_LIKELIHOOD),
        "{ll} vs {}",
        fixture::TEST_LOG_LIKELIHOOD
    );
    let (_, variance) = u::predictive_moments(samples[0], fixture::TAU).unwrap();
    assert!(close(variance, fixture::VARIANCE_OF_FIRST), "{variance}");
}
