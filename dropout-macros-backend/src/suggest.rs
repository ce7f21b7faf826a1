//! "Did you mean …?" suggestions for misspelt keywords.

/// The candidate closest to `word`, if it is close enough to be a plausible typo: equal up to
/// case, or within an edit distance of one per three letters (at least one).
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    if let Some(exact) = candidates.iter().find(|c| **c == lower) {
        return Some(exact);
    }
    let budget = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Levenshtein distance with adjacent transpositions (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, edit_distance};
    use dropout_shared::Activation;

    fn activations() -> [&'static str; Activation::ALL.len()] {
        Activation::ALL.map(Activation::name)
    }

    #[test]
    fn near_misses_are_suggested() {
        assert_eq!(did_you_mean("Relu", &activations()), Some("relu"));
        assert_eq!(did_you_mean("sigmod", &activations()), Some("sigmoid"));
        assert_eq!(did_you_mean("tahn", &activations()), Some("tanh"));
        assert_eq!(
            did_you_mean("leakyrelu", &activations()),
            Some("leaky_relu")
        );
        assert_eq!(did_you_mean("relu_6", &activations()), Some("relu6"));
        assert_eq!(
            did_you_mean("hardsigmoid", &activations()),
            Some("hard_sigmoid")
        );
        assert_eq!(did_you_mean("Dense", &["dense"]), Some("dense"));
    }

    #[test]
    fn unrelated_words_are_not() {
        assert_eq!(did_you_mean("swish", &activations()), None);
        assert_eq!(did_you_mean("conv", &["dense"]), None);
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
