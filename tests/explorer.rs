//! The explorer page in a real browser: headless Chromium loads generated pages with state in
//! the URL fragment, and what it renders is compared with the Rust passes.
//!
//! Needs Chromium (`apt-get install chromium`, or `DROPOUT_CHROMIUM=/path/to/chrome`). Without
//! it these tests print that they did not run (on the terminal, past the harness's capture) and
//! pass, unless `DROPOUT_REQUIRE_BROWSER=1` is set — as `.ci/run` does, so that CI fails where
//! they cannot run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::{RngExt as _, SeedableRng as _};
use dropout::toy::{Toy, ToyMasks};
use dropout::{Masks, Network, network};
use dropout_runtime::__page::AnyPage;
use serde_json::Value;

network! {
    /// Several activations in `f64`, whose transcendental functions the browser computes to the
    /// same six significant digits as Rust.
    struct Mixed<f64> {
        input: 3, dropout(p = 0.3),
        dense 4 tanh, dropout(p = 0.5),
        dense 3 leaky_relu(0.1), dropout(p = 0.2),
        dense 2 softmax,
    }
}

network! {
    /// The dropout family in `f64`: alpha dropout on SELU units, ELU, GELU, ReLU6, softplus,
    /// SiLU, hard sigmoid.
    struct Family<f64> {
        input: 3, alpha_dropout(p = 0.2),
        dense 4 selu, alpha_dropout(p = 0.3),
        dense 3 elu(0.7), dropout(p = 0.4),
        dense 3 gelu,
        dense 3 relu6,
        dense 2 softplus,
        dense 2 silu,
        dense 2 hard_sigmoid,
    }
}

network! {
    /// Inverted scaling in `f32`, piecewise linear: no transcendental function whose `libm`
    /// build (in the page's WebAssembly module) could differ from the platform's in the last bit.
    struct Inverted<f32> {
        scaling: inverted,
        input: 2, dropout(p = 0.5),
        dense 3 relu {
            weights: [[1.0, -1.0], [2.0, 1.0], [-1.0, 3.0]],
            bias: [0.5, -1.0, 0.0],
        }, dropout(p = 0.25),
        dense 1 identity { weights: [[1.0, -2.0, 0.5]], bias: [0.25] },
    }
}

network! {
    /// DropConnect on the first layer: 6 weight bits the page draws by sampling.
    struct Connect<f64> {
        scaling: classic,
        input: 2,
        dense 3 relu dropconnect(p = 0.5),
        dense 1 identity,
    }
}

network! {
    /// Gaussian dropout on the input: noise the page draws by sampling.
    struct Noisy<f32> {
        input: 2, gaussian_dropout(p = 0.5),
        dense 2 tanh, dropout(p = 0.5),
        dense 1 identity,
    }
}

network! {
    /// Eighteen droppable units: more than the page embeds the exact distribution for.
    struct Eighteen<f32> {
        input: 9, dropout(p = 0.5),
        dense 9 relu, dropout(p = 0.5),
        dense 1 identity,
    }
}

fn article() -> ToyMasks {
    ToyMasks {
        input: [true, true],
        h1: [true, false, true],
        h2: [true, true, false],
        h3: [true, true],
    }
}

/// The browser, or `None` (said on standard error) when it is missing and not required.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("DROPOUT_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["chromium", "chromium-browser", "google-chrome"]
                .into_iter()
                .find_map(|name| {
                    let out = Command::new("which").arg(name).output().ok()?;
                    out.status
                        .success()
                        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
                })
        });
    if found.is_none() {
        assert!(
            std::env::var_os("DROPOUT_REQUIRE_BROWSER").is_none(),
            "DROPOUT_REQUIRE_BROWSER is set but no Chromium was found (apt-get install chromium)"
        );
        say_once(
            "tests/explorer.rs: the browser tests did NOT RUN: no Chromium found (apt-get install chromium, or set DROPOUT_CHROMIUM)",
        );
    }
    found
}

/// Writes `message` to the terminal once per test binary. Standard error itself, not
/// `eprintln!`, which the test harness captures and shows only for failing tests: a user
/// running `cargo test` sees which tests did not run.
fn say_once(message: &str) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{message}");
    });
}

/// Where the tests write their pages.
fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explorer");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Writes `html` (with `extra` script appended to the body) and returns its DOM after the
/// browser has run the page's script at `fragment`.
fn render(browser: &Path, name: &str, html: &str, fragment: &str, extra: &str) -> String {
    let page = if extra.is_empty() {
        html.to_string()
    } else {
        html.replace("</body>", &format!("<script>\n{extra}\n</script>\n</body>"))
    };
    let path = scratch().join(format!("{name}.html"));
    std::fs::write(&path, page).expect("writing the page");
    let url = format!("file://{}#{fragment}", path.display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(&url)
        .output()
        .expect("running Chromium");
    assert!(
        out.status.success(),
        "Chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a UTF-8 DOM")
}

/// The text of the element with `id` in a dumped DOM, its children's tags removed, unescaped.
fn text_of(dom: &str, id: &str) -> String {
    let open = format!("id=\"{id}\"");
    let start = dom
        .find(&open)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let tag_start = dom[..start].rfind('<').expect("a tag's start") + 1;
    let tag: String = dom[tag_start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let from = start + dom[start..].find('>').expect("a tag's end") + 1;
    let to = from
        + dom[from..]
            .find(&format!("</{tag}>"))
            .expect("a closing tag");
    let mut text = String::new();
    let mut in_tag = false;
    for c in dom[from..to].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `x=…&masks=…&mode=…` for these values.
fn fragment<N: Network>(x: &[f64], masks: Option<&N::Masks>) -> String {
    let x: Vec<String> = x.iter().map(|v| format!("{v:?}")).collect();
    let bits = |m: &N::Masks| -> String {
        (0..N::Masks::N_SITES)
            .map(|s| {
                m.site(s)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&k| if k { '1' } else { '0' })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join(".")
    };
    match masks {
        Some(m) => format!("x={}&masks={}&mode=training", x.join(","), bits(m)),
        None => format!("x={}&mode=evaluation", x.join(",")),
    }
}

/// A script that renders the page at each fragment and leaves the tables in `#results`.
fn batch_script(fragments: &[String]) -> String {
    let list: Vec<String> = fragments.iter().map(|f| format!("{f:?}")).collect();
    format!(
        "const results = [];\n\
         for (const f of [{}]) {{ history.replaceState(null, '', '#' + f); readFragment(); render();\n\
           results.push(document.getElementById('trace').textContent); }}\n\
         const pre = document.createElement('pre'); pre.id = 'results';\n\
         pre.textContent = JSON.stringify(results); document.body.append(pre);",
        list.join(", ")
    )
}

/// The tables the page rendered for each fragment.
fn batch(browser: &Path, name: &str, html: &str, fragments: &[String]) -> Vec<String> {
    let dom = render(browser, name, html, "", &batch_script(fragments));
    let json = text_of(&dom, "results");
    parse_strings(&json)
}

/// A JSON array of strings, as `JSON.stringify` writes it.
fn parse_strings(json: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = json.trim().trim_start_matches('[').chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        let code = u32::from_str_radix(&hex, 16).expect("a \\u escape");
                        s.push(char::from_u32(code).expect("a character"));
                    }
                    Some(other) => s.push(other),
                    None => {}
                },
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

#[test]
fn the_toy_page_shows_the_article_numbers() {
    let Some(browser) = chromium() else { return };
    let toy = Toy::new();
    let html = toy.explorer(&[1.0, 1.0]).masks(&article()).html().unwrap();
    // Opened as written: the article's masks, the training pass.
    let dom = render(&browser, "toy", &html, "", "");
    assert_eq!(text_of(&dom, "prediction"), "prediction: (-5)");
    assert_eq!(
        text_of(&dom, "trace"),
        toy.trace(&[1.0, 1.0], &article()).to_string()
    );
    let all_kept = fragment::<Toy>(&[1.0, 1.0], Some(&ToyMasks::ALL_KEPT));
    let dom = render(&browser, "toy", &html, &all_kept, "");
    assert_eq!(text_of(&dom, "prediction"), "prediction: (7)");
    let dom = render(&browser, "toy", &html, "x=1,1&mode=evaluation", "");
    assert_eq!(text_of(&dom, "prediction"), "prediction: (1.5625)");
    assert_eq!(
        text_of(&dom, "trace"),
        toy.trace_eval(&[1.0, 1.0]).to_string()
    );

    // Inverted scaling has its own values.
    let inverted = Inverted::new();
    let html = inverted.explorer(&[1.0, 1.0]).html().unwrap();
    let masks = InvertedMasks {
        input: [true, false],
        h1: [true, true, false],
    };
    let dom = render(
        &browser,
        "inverted",
        &html,
        &fragment::<Inverted>(&[1.0, 1.0], Some(&masks)),
        "",
    );
    let trace = inverted.trace(&[1.0, 1.0], &masks).to_string();
    assert_eq!(text_of(&dom, "trace"), trace);
    assert_eq!(
        Some(text_of(&dom, "prediction").as_str()),
        trace.lines().last()
    );
    let dom = render(&browser, "inverted", &html, "x=1,1&mode=evaluation", "");
    assert_eq!(
        text_of(&dom, "trace"),
        inverted.trace_eval(&[1.0, 1.0]).to_string()
    );
}

#[test]
fn the_page_opens_on_the_evaluation_pass_in_plain_sentences() {
    let Some(browser) = chromium() else { return };
    let toy = Toy::new();
    let html = toy.explorer(&[1.0, 1.0]).html().unwrap();
    let dom = render(&browser, "toy-default", &html, "", "");
    assert_eq!(text_of(&dom, "prediction"), "prediction: (1.5625)");
    assert_eq!(
        text_of(&dom, "trace"),
        toy.trace_eval(&[1.0, 1.0]).to_string()
    );
    let summary = text_of(&dom, "exact-summary");
    assert!(
        summary.ends_with("; evaluation pass 1.5625."),
        "the caption reads {summary:?}"
    );

    // Too many masks to enumerate and none sampled yet: the caption is one sentence and the
    // histogram has no axis around an empty plot.
    let wide = Eighteen::init(&mut ChaCha8Rng::seed_from_u64(3));
    let x = [0.5; 9];
    let html = wide.explorer(&x).html().unwrap();
    let dom = render(&browser, "wide", &html, "", "");
    let summary = text_of(&dom, "exact-summary");
    let eval = wide.forward(&x)[0];
    assert!(
        summary.starts_with("18 droppable units: too many masks to enumerate here (Monte Carlo only); evaluation pass ")
            && summary.ends_with('.')
            && !summary.contains(".;"),
        "the caption reads {summary:?} (evaluation {eval})"
    );
    let open = dom.find("id=\"histogram\"").expect("the histogram");
    let close = open + dom[open..].find("</svg>").expect("its end");
    let histogram = &dom[open..close];
    assert!(histogram.contains("height=\"0\""), "{histogram}");
    assert!(!histogram.contains("<line"), "{histogram}");
}

#[test]
fn random_passes_render_exactly_what_rust_traces() {
    let Some(browser) = chromium() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(11);

    let toy = Toy::new();
    let html = toy.explorer(&[1.0, 1.0]).html().unwrap();
    let (mut fragments, mut expected) = (Vec::new(), Vec::new());
    for round in 0..24 {
        let x: [f32; 2] = std::array::from_fn(|_| rng.random_range(-3.0..3.0));
        let x64 = x.map(f64::from);
        if round % 4 == 3 {
            fragments.push(fragment::<Toy>(&x64, None));
            expected.push(toy.trace_eval(&x).to_string());
        } else {
            let masks = toy.sample_masks(&mut rng);
            fragments.push(fragment::<Toy>(&x64, Some(&masks)));
            expected.push(toy.trace(&x, &masks).to_string());
        }
    }
    assert_eq!(batch(&browser, "toy-random", &html, &fragments), expected);

    let mixed = Mixed::init(&mut rng);
    let html = mixed.explorer(&[0.0; 3]).html().unwrap();
    let (mut fragments, mut expected) = (Vec::new(), Vec::new());
    for round in 0..24 {
        let x: [f64; 3] = std::array::from_fn(|_| rng.random_range(-3.0..3.0));
        if round % 4 == 3 {
            fragments.push(fragment::<Mixed>(&x, None));
            expected.push(mixed.trace_eval(&x).to_string());
        } else {
            let masks = mixed.sample_masks(&mut rng);
            fragments.push(fragment::<Mixed>(&x, Some(&masks)));
            expected.push(mixed.trace(&x, &masks).to_string());
        }
    }
    assert_eq!(batch(&browser, "mixed-random", &html, &fragments), expected);

    let family = Family::init(&mut rng);
    let html = family.explorer(&[0.0; 3]).html().unwrap();
    let (mut fragments, mut expected) = (Vec::new(), Vec::new());
    for round in 0..24 {
        let x: [f64; 3] = std::array::from_fn(|_| rng.random_range(-3.0..3.0));
        if round % 4 == 3 {
            fragments.push(fragment::<Family>(&x, None));
            expected.push(family.trace_eval(&x).to_string());
        } else {
            let masks = family.sample_masks(&mut rng);
            fragments.push(fragment::<Family>(&x, Some(&masks)));
            expected.push(family.trace(&x, &masks).to_string());
        }
    }
    assert_eq!(
        batch(&browser, "family-random", &html, &fragments),
        expected
    );
}

#[test]
fn clicking_a_unit_toggles_its_bit() {
    let Some(browser) = chromium() else { return };
    let toy = Toy::new();
    let html = toy.explorer(&[1.0, 1.0]).masks(&article()).html().unwrap();
    // μ¹ keeps unit 1 dropped in the article; click it back in, then drop unit 0 of μ².
    let click = |column: usize, unit: usize| {
        format!(
            "document.querySelector('circle[data-column=\"{column}\"][data-unit=\"{unit}\"]')\
             .dispatchEvent(new MouseEvent('click', {{ bubbles: true }}));"
        )
    };
    let script = format!("{}\n{}", click(1, 1), click(2, 0));
    let dom = render(&browser, "toy-click", &html, "", &script);
    let mut masks = article();
    masks.h1[1] = true;
    masks.h2[0] = false;
    let trace = toy.trace(&[1.0, 1.0], &masks).to_string();
    assert_eq!(text_of(&dom, "trace"), trace);
    assert_eq!(
        Some(text_of(&dom, "prediction").as_str()),
        trace.lines().last()
    );
    assert_ne!(
        toy.forward_masked(&[1.0, 1.0], &masks),
        toy.forward_masked(&[1.0, 1.0], &article()),
        "the clicks change the prediction"
    );
}

#[test]
fn sampled_masks_are_the_masks_rust_draws_for_the_seed() {
    let Some(browser) = chromium() else { return };
    let toy = Toy::new();
    let html = toy.explorer(&[1.0, 1.0]).seed(5).html().unwrap();
    let press = "document.getElementById('sample').click();";
    let dom = render(
        &browser,
        "toy-sample",
        &html,
        "",
        &format!("{press}\n{press}"),
    );
    // Two presses: seeds 5 and 6 drawn, the page now on 7 and showing seed 6's pass.
    let masks = toy.sample_masks(&mut ChaCha8Rng::seed_from_u64(6));
    assert_ne!(masks, toy.sample_masks(&mut ChaCha8Rng::seed_from_u64(5)));
    assert_eq!(text_of(&dom, "seed"), "7");
    assert_eq!(
        text_of(&dom, "trace"),
        toy.trace(&[1.0, 1.0], &masks).to_string()
    );
    assert!(
        text_of(&dom, "monte-carlo").starts_with("Monte Carlo: 2 samples"),
        "{}",
        text_of(&dom, "monte-carlo")
    );

    // Any seed: the page draws what Rust draws, far from the page's first seed too.
    let far = 1_u64 << 40;
    let dom = render(
        &browser,
        "toy-sample-far",
        &html,
        &format!("seed={far}"),
        press,
    );
    let masks = toy.sample_masks(&mut ChaCha8Rng::seed_from_u64(far));
    assert_eq!(text_of(&dom, "seed"), (far + 1).to_string());
    assert_eq!(
        text_of(&dom, "trace"),
        toy.trace(&[1.0, 1.0], &masks).to_string()
    );
    assert!(text_of(&dom, "monte-carlo").starts_with("Monte Carlo: 1 sample, mean "));
}

#[test]
fn weight_masks_and_noise_are_shown_as_sampled() {
    let Some(browser) = chromium() else { return };
    let press = "document.getElementById('sample').click();";
    let twice = format!("{press}\n{press}");
    let mut rng = ChaCha8Rng::seed_from_u64(21);

    let connect = Connect::init(&mut rng);
    let x = [0.5, -1.5];
    let html = connect.explorer(&x).seed(9).html().unwrap();
    let dom = render(&browser, "connect-sample", &html, "", &twice);
    let masks = connect.sample_masks(&mut ChaCha8Rng::seed_from_u64(10));
    assert_eq!(
        text_of(&dom, "trace"),
        connect.trace(&x, &masks).to_string()
    );
    // Dropped weights are drawn dashed, one line per dropped bit.
    let dropped = masks
        .h1_weights
        .iter()
        .flatten()
        .filter(|&&kept| !kept)
        .count();
    assert_eq!(dom.matches("class=\"weight dropped\"").count(), dropped);
    assert!(dom.contains("dropconnect p = 0.5"));

    let noisy = Noisy::init(&mut rng);
    let x = [1.0, 0.25];
    let html = noisy.explorer(&x).seed(3).html().unwrap();
    let dom = render(&browser, "noisy-sample", &html, "", &twice);
    let masks = noisy.sample_masks(&mut ChaCha8Rng::seed_from_u64(4));
    assert_eq!(text_of(&dom, "trace"), noisy.trace(&x, &masks).to_string());
    assert!(
        text_of(&dom, "exact-summary").starts_with("Gaussian noise is continuous"),
        "{}",
        text_of(&dom, "exact-summary")
    );
    // The address names the draw, and reproduces its noise.
    let address = noisy_fragment(&html, 3);
    let dom = render(&browser, "noisy-address", &html, &address, "");
    assert_eq!(text_of(&dom, "trace"), noisy.trace(&x, &masks).to_string());
}

/// The address of the Gaussian page after two samples from `seed`: what its module writes.
fn noisy_fragment(html: &str, seed: u64) -> String {
    let mut page = host_page(html);
    let _ = page.run("sample");
    let view = view(&mut page, "sample");
    assert_eq!(view["seed"], (seed + 2).to_string());
    let fragment = view["fragment"].as_str().unwrap().to_string();
    assert!(
        fragment.ends_with(&format!("&draw={}", seed + 1)),
        "{fragment}"
    );
    fragment
}

#[test]
fn the_histogram_mean_is_the_exact_mean() {
    let Some(browser) = chromium() else { return };
    for (name, html, mean) in [
        (
            "toy-mean",
            Toy::new().explorer(&[1.0, 1.0]).html().unwrap(),
            f64::from(Toy::new().exact_moments(&[1.0, 1.0]).unwrap().mean[0]),
        ),
        (
            "inverted-mean",
            Inverted::new().explorer(&[0.5, 2.0]).html().unwrap(),
            f64::from(Inverted::new().exact_moments(&[0.5, 2.0]).unwrap().mean[0]),
        ),
    ] {
        let dom = render(&browser, name, &html, "", "");
        let shown = dom
            .split("data-mean=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name}: no exact mean on the page"));
        assert!(
            (shown - mean).abs() <= 1e-6 * (1.0 + mean.abs()),
            "{name}: the page's exact mean {shown}, exact_moments {mean}"
        );
    }
}

/// The width and height of a PNG image, from its header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let header = png.get(..24)?;
    if &header[..8] != b"\x89PNG\r\n\x1a\n" || &header[12..16] != b"IHDR" {
        return None;
    }
    let word = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    Some((word(16), word(20)))
}

/// The README's picture of the toy page (the article's masks), taken in the browser; with
/// `DROPOUT_UPDATE_SCREENSHOT=1` it replaces `docs/explorer.png`.
#[test]
fn screenshot_of_the_toy_page() {
    let Some(browser) = chromium() else { return };
    let html = Toy::new()
        .explorer(&[1.0, 1.0])
        .masks(&article())
        .html()
        .unwrap();
    let page = scratch().join("screenshot.html");
    std::fs::write(&page, html).unwrap();
    let png = scratch().join("explorer.png");
    let _ = std::fs::remove_file(&png);
    let status = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg("--window-size=1280,1150")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("running Chromium")
        .status;
    assert!(status.success());
    let bytes = std::fs::read(&png).expect("Chromium wrote the screenshot");
    assert_eq!(png_size(&bytes), Some((1280, 1150)));
    if std::env::var_os("DROPOUT_UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/explorer.png");
        std::fs::write(docs, bytes).unwrap();
    }
}

network! {
    struct Wide<f32> { input: 65, dropout(p = 0.5), dense 1 identity }
}

network! {
    struct Small<f64> {
        input: 2, dropout(p = 0.5),
        dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] },
    }
}

#[test]
fn layers_too_wide_to_draw_are_an_error() {
    let err = Wide::zeros().explorer(&[0.0; 65]).html().unwrap_err();
    assert_eq!(err, dropout::Error::TooLargeToDraw { units: 65, max: 64 });
    assert_eq!(
        err.to_string(),
        "the explorer draws every unit; this network has a layer of 65 units, more than 64"
    );
}

/// The page's own computations, on the host: the network the page embeds, decoded by the code
/// its WebAssembly module runs.
fn host_page(html: &str) -> AnyPage {
    AnyPage::decode(&embedded(html)).expect("the page's network decodes")
}

/// The bytes of the page's `NETWORK`.
fn embedded(html: &str) -> Vec<u8> {
    let start = html.find("const NETWORK = \"").expect("the page's network") + 17;
    let end = start + html[start..].find('"').expect("its end");
    base64::engine::general_purpose::STANDARD
        .decode(&html[start..end])
        .expect("base64")
}

fn view(page: &mut AnyPage, command: &str) -> Value {
    serde_json::from_str(&page.run(command)).expect("the view is JSON")
}

#[test]
fn the_page_computes_exact_values_and_the_distribution() {
    // Inverted scaling: each input kept with probability ½ and doubled.
    let mut page = host_page(&Small::new().explorer(&[1.0, 2.0]).html().unwrap());
    let view = view(&mut page, "view");
    let ensemble = &view["ensemble"];
    assert_eq!(
        ensemble["exact"],
        "Every mask of 2 droppable units (4 thinned networks, weighted by their probability): "
    );
    assert_eq!(ensemble["meanValue"], 3.0);
    assert_eq!(ensemble["mean"], "exact mean 3");
    let titles: Vec<&str> = ensemble["histogram"]["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bar| bar["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "0: probability 0.25",
            "2: probability 0.25",
            "4: probability 0.25",
            "6: probability 0.25"
        ]
    );
    assert_eq!(Small::new().exact_moments(&[1.0, 2.0]).unwrap().mean, [3.0]);

    // NaN stays NaN, through the page's pass and its text.
    let x = [f64::NAN, 0.1];
    let mut page = host_page(&Small::new().explorer(&x).html().unwrap());
    let view = self::view(&mut page, "view");
    assert_eq!(view["inputs"], serde_json::json!(["NaN", "0.1"]));
    assert_eq!(view["trace"], Small::new().trace_eval(&x).to_string());
    assert_eq!(view["prediction"], "prediction: (NaN)");
}

#[test]
fn every_seed_samples_the_masks_rust_draws() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mixed, connect, noisy) = (
        Mixed::init(&mut rng),
        Connect::init(&mut rng),
        Noisy::init(&mut rng),
    );
    for seed in [0, 1, 1000, 1 << 40, u64::MAX] {
        let check = |html: String, expected: String| {
            let mut page = host_page(&html);
            let _ = page.run(&format!("fragment seed={seed}"));
            let view = view(&mut page, "sample");
            assert_eq!(view["trace"], expected, "seed {seed}");
            assert_eq!(view["seed"], seed.wrapping_add(1).to_string());
            assert_eq!(view["training"], true);
        };
        let draw = || ChaCha8Rng::seed_from_u64(seed);
        let x = [0.5, -1.0, 2.0];
        check(
            mixed.explorer(&x).html().unwrap(),
            mixed
                .trace(&x, &mixed.sample_masks(&mut draw()))
                .to_string(),
        );
        let x = [0.5, -1.5];
        check(
            connect.explorer(&x).html().unwrap(),
            connect
                .trace(&x, &connect.sample_masks(&mut draw()))
                .to_string(),
        );
        let x = [1.0, 0.25];
        check(
            noisy.explorer(&x).html().unwrap(),
            noisy
                .trace(&x, &noisy.sample_masks(&mut draw()))
                .to_string(),
        );
    }
}

#[test]
fn the_address_restores_the_view() {
    let toy = Toy::new();
    let html = toy.explorer(&[1.0, 1.0]).html().unwrap();
    let mut page = host_page(&html);
    let _ = page.run("toggle 1 2");
    let _ = page.run("input 1 -0.25");
    let before = view(&mut page, "toggle 0 0");
    assert_eq!(before["training"], true);
    let mut masks = ToyMasks::ALL_KEPT;
    masks.input[0] = false;
    masks.h1[2] = false;
    assert_eq!(
        before["trace"],
        toy.trace(&[1.0, -0.25], &masks).to_string()
    );

    let mut fresh = host_page(&html);
    let fragment = before["fragment"].as_str().unwrap();
    assert_eq!(
        fragment,
        "x=1,-0.25&masks=01.110.111.11&mode=training&seed=1&output=0"
    );
    assert_eq!(view(&mut fresh, &format!("fragment #{fragment}")), before);

    // What does not fit the network is ignored: the view stays as it was.
    for nonsense in [
        "fragment x=1,2,3&masks=1.1&mode=sideways&seed=-4&output=x",
        "toggle 9 0",
        "toggle 0 9",
        "input 5 2",
        "output x",
        "dance",
    ] {
        assert_eq!(view(&mut fresh, nonsense), before, "{nonsense}");
    }
    // An output past the last is the last; text that is no number is NaN.
    assert_eq!(view(&mut fresh, "output 7")["fragment"], fragment);
    let nan = view(&mut fresh, "input 0 one");
    assert_eq!(nan["inputs"][0], "NaN");
    assert_eq!(nan["prediction"], "prediction: (NaN)");
}

#[test]
fn a_malformed_network_is_an_error_not_a_panic() {
    let bytes = embedded(
        &Mixed::init(&mut ChaCha8Rng::seed_from_u64(1))
            .explorer(&[0.0; 3])
            .html()
            .unwrap(),
    );
    assert!(AnyPage::decode(&bytes).is_ok());
    for len in 0..bytes.len() {
        let Err(err) = AnyPage::decode(&bytes[..len]) else {
            panic!("{len} of {} bytes decoded", bytes.len());
        };
        assert!(
            err.to_string()
                .starts_with("the explorer page's network is malformed: "),
            "{err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = AnyPage::decode(&longer).err().unwrap();
    assert_eq!(
        err.to_string(),
        "the explorer page's network is malformed: bytes follow its end"
    );
    // Any byte changed: an error, or a page whose every command answers.
    for at in 0..bytes.len() {
        for value in [0, 2, 0x7f, 0xff] {
            let mut changed = bytes.clone();
            changed[at] = value;
            if let Ok(mut page) = AnyPage::decode(&changed) {
                for command in ["view", "sample", "toggle 0 0", "mode evaluation"] {
                    assert!(page.run(command).starts_with("{\"title\":"));
                }
            }
        }
    }
}

#[test]
fn the_page_is_written_whole() {
    let path = scratch().join("saved.html");
    Toy::new().explorer(&[1.0, 1.0]).save(&path).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(saved, Toy::new().explorer(&[1.0, 1.0]).html().unwrap());
    let err = Toy::new()
        .explorer(&[1.0, 1.0])
        .save(scratch().join("no/such/directory/page.html"))
        .unwrap_err();
    assert!(matches!(err, dropout::Error::Io { .. }), "{err}");
}

#[test]
fn the_page_is_self_contained() {
    let html = Toy::new().explorer(&[1.0, 1.0]).html().unwrap();
    for forbidden in ["src=", "href=", "@import", "url(", "http://", "https://"] {
        let allowed_svg_namespace = forbidden == "http://";
        let count = html.matches(forbidden).count();
        let svg = html.matches("http://www.w3.org/2000/svg").count();
        if allowed_svg_namespace {
            assert_eq!(count, svg, "only the SVG namespace may name a URL");
        } else {
            assert_eq!(
                count, 0,
                "the page refers to something outside it: {forbidden}"
            );
        }
    }
}
