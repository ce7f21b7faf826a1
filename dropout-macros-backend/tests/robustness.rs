//! The macro never panics: 100,000 random and mutated declarations go through parse, check and
//! expand, and each must produce items or spanned errors.

use std::panic::{AssertUnwindSafe, catch_unwind};

use dropout_macros_backend::{Rejected, try_expand};
use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt as _, SeedableRng as _};

/// Valid declarations that mutations start from; together they use every construct.
const SEEDS: &[&str] = &[
    r"
    /// docs
    #[derive(Debug, Clone)]
    pub struct Toy<f32> {
        scaling: classic,
        input: 2, dropout(keep = 1.0),
        dense 3 relu { weights: [[1.0, -1.0], [2.0, 1.0], [-1.0, 3.0]], bias: [0.5, -1.0, 0.0] }, dropout(p = 0.5),
        dense 2 relu { weights: [[2.0, -1.0, 1.0], [1.0, 1.0, -1.0]], bias: [1.0, 0.0] }, dropout(p = 0.5),
        dense 1 identity { weights: [[1.0, -2.0]], bias: [0.5] },
        test article { input: [1.0, 1.0], masks: [[1, 1], [1, 0, 1], [1, 1]], expect: [-5.0], tolerance: 1e-6 }
    }",
    r"
    pub(crate) struct Named<f64> {
        input: 3,
        enc: dense 4 leaky_relu(0.01), dropout(p = 0.2),
        mid: dense 2 tanh { weights: [[1, 2, 3, 4], [5, 6, 7, 8]], bias: [0, 0] },
        out: dense 2 softmax,
    }",
    r"
    struct Small {
        input: 1, dropout(p = 0.1),
        dense 1 sigmoid { weights: [[2]], bias: [-1] },
        test half { input: [0.5], masks: [[true]], expect: [0.5] }
        test eval { input: [0.5], expect: [0.5] }
    }",
];

/// Words and symbols the random generator and the mutations draw from.
const WORDS: &[&str] = &[
    "struct",
    "pub",
    "input",
    "dense",
    "dropout",
    "scaling",
    "test",
    "weights",
    "bias",
    "masks",
    "expect",
    "tolerance",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "identity",
    "classic",
    "inverted",
    "p",
    "keep",
    "true",
    "false",
    "f32",
    "f64",
    "f16",
    "Net",
    "h1",
    "output",
    "self",
    "crate",
    "r#type",
    "file",
    "inf",
];
const PUNCTS: &[char] = &[
    ',', ':', '-', '=', '<', '>', '#', '!', ';', '.', '+', '*', '/', '&',
];

fn random_literal(rng: &mut ChaCha8Rng) -> Literal {
    match rng.random_range(0..9) {
        0 => Literal::usize_unsuffixed(rng.random_range(0..5)),
        1 => Literal::u64_unsuffixed(rng.random()),
        2 => Literal::f64_unsuffixed(rng.random_range(-3.0..3.0)),
        3 => Literal::f64_suffixed(rng.random_range(0.0..2.0)),
        4 => Literal::f32_suffixed(rng.random_range(0.0..2.0)),
        5 => Literal::string("model.safetensors"),
        6 => Literal::character('x'),
        7 => "1e400"
            .parse()
            .unwrap_or_else(|_| Literal::u8_unsuffixed(0)),
        _ => Literal::i32_suffixed(rng.random_range(-5..5)),
    }
}

fn random_leaf(rng: &mut ChaCha8Rng) -> TokenTree {
    match rng.random_range(0..3) {
        0 => TokenTree::Ident(ident(WORDS[rng.random_range(0..WORDS.len())])),
        1 => TokenTree::Punct(Punct::new(
            PUNCTS[rng.random_range(0..PUNCTS.len())],
            Spacing::Alone,
        )),
        _ => TokenTree::Literal(random_literal(rng)),
    }
}

fn ident(word: &str) -> Ident {
    match word.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(word, Span::call_site()),
    }
}

fn random_tree(rng: &mut ChaCha8Rng, depth: usize) -> TokenTree {
    if depth == 0 || rng.random_bool(0.7) {
        return random_leaf(rng);
    }
    let delimiter =
        [Delimiter::Brace, Delimiter::Bracket, Delimiter::Parenthesis][rng.random_range(0..3)];
    let len = rng.random_range(0..8);
    let inner: TokenStream = (0..len).map(|_| random_tree(rng, depth - 1)).collect();
    TokenTree::Group(Group::new(delimiter, inner))
}

/// A random declaration-shaped stream: sometimes with a real header, always random inside.
fn random_stream(rng: &mut ChaCha8Rng) -> TokenStream {
    let len = rng.random_range(0..24);
    let body: TokenStream = (0..len).map(|_| random_tree(rng, 3)).collect();
    if rng.random_bool(0.5) {
        let mut out: TokenStream = "struct Net".parse().unwrap_or_default();
        out.extend([TokenTree::Group(Group::new(Delimiter::Brace, body))]);
        out
    } else {
        body
    }
}

/// Applies one mutation at a random nesting level, keeping delimiters balanced.
fn mutate(stream: TokenStream, rng: &mut ChaCha8Rng) -> TokenStream {
    let mut trees: Vec<TokenTree> = stream.into_iter().collect();
    let groups: Vec<usize> = (0..trees.len())
        .filter(|&i| matches!(trees[i], TokenTree::Group(_)))
        .collect();
    // Descend into a group half of the time, so deep tokens (weights, masks) get mutated too.
    if !groups.is_empty() && rng.random_bool(0.6) {
        let idx = groups[rng.random_range(0..groups.len())];
        if let TokenTree::Group(group) = &trees[idx] {
            let mut inner = Group::new(group.delimiter(), mutate(group.stream(), rng));
            inner.set_span(group.span());
            trees[idx] = TokenTree::Group(inner);
        }
        return trees.into_iter().collect();
    }
    let len = trees.len();
    match rng.random_range(0..6) {
        0 if len > 0 => {
            trees.remove(rng.random_range(0..len));
        }
        1 if len > 0 => {
            let idx = rng.random_range(0..len);
            trees.insert(idx, trees[idx].clone());
        }
        2 if len > 1 => {
            let idx = rng.random_range(0..len - 1);
            trees.swap(idx, idx + 1);
        }
        3 if len > 0 => {
            let idx = rng.random_range(0..len);
            trees[idx] = TokenTree::Literal(random_literal(rng));
        }
        4 if len > 0 => {
            let idx = rng.random_range(0..len);
            trees[idx] = random_leaf(rng);
        }
        _ => {
            let idx = rng.random_range(0..=len);
            trees.insert(idx, random_tree(rng, 2));
        }
    }
    trees.into_iter().collect()
}

/// Runs the macro on `input` (whose tokens all sit below line 1) and checks the outcome.
fn check_outcome(input: TokenStream) -> Result<bool, String> {
    let shown = input.to_string();
    let outcome = catch_unwind(AssertUnwindSafe(|| try_expand(input)))
        .map_err(|_| format!("the macro panicked on:\n{shown}"))?;
    match outcome {
        Ok(tokens) => {
            if tokens.is_empty() {
                return Err(format!("empty expansion for:\n{shown}"));
            }
            Ok(true)
        }
        Err(Rejected { errors, .. }) => {
            for single in errors {
                let message = single.to_string();
                let located = single.span().start().line > 1;
                if message.is_empty() || !(located || message.contains("end of input")) {
                    return Err(format!("unlocated error `{message}` for:\n{shown}"));
                }
            }
            Ok(false)
        }
    }
}

/// Parses `text` placed on line 2 onwards, so that a span on line 1 can only be the call site.
fn below_first_line(text: &str) -> TokenStream {
    format!("\n{text}").parse().unwrap_or_default()
}

#[test]
fn seeds_expand() {
    for seed in SEEDS {
        assert_eq!(check_outcome(below_first_line(seed)), Ok(true), "{seed}");
    }
}

#[test]
fn never_panics_on_random_and_mutated_streams() {
    const RUNS: usize = 100_000;
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let seeds: Vec<TokenStream> = SEEDS.iter().map(|s| below_first_line(s)).collect();
    let (mut accepted, mut rejected) = (0, 0);
    for run in 0..RUNS {
        let stream = if run % 4 == 0 {
            random_stream(&mut rng)
        } else {
            let mut stream = seeds[run % seeds.len()].clone();
            for _ in 0..rng.random_range(1..4) {
                stream = mutate(stream, &mut rng);
            }
            stream
        };
        // Lexed again from text, so that generated and inserted tokens carry real locations.
        match check_outcome(below_first_line(&stream.to_string())) {
            Ok(true) => accepted += 1,
            Ok(false) => rejected += 1,
            Err(problem) => panic!("run {run}: {problem}"),
        }
    }
    assert_eq!(accepted + rejected, RUNS);
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    assert!(
        accepted > 1_000 && rejected > 10_000,
        "accepted {accepted}, rejected {rejected}"
    );
}
