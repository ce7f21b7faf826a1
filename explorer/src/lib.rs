//! The explorer page's WebAssembly module: the page's script hands it the network the page
//! embeds and then one command per click, and draws the view it answers (see
//! `dropout_runtime::__page`, where everything is computed). Four exports, no imports:
//!
//! - `buffer(len)`: room for `len` bytes, whose address the script writes its input to;
//! - `load()`: the buffer holds the page's network; 1 if it decoded, else 0 and the error as
//!   the output;
//! - `run()`: the buffer holds a command (UTF-8); its view (JSON) becomes the output;
//! - `output()` and `output_len()`: where the last output lies.
#![allow(
    unsafe_code,
    reason = "the exports are `#[unsafe(no_mangle)]`: the page's script finds them by name"
)]

use std::sync::Mutex;

use dropout_runtime::__page::AnyPage;

struct State {
    input: Vec<u8>,
    output: String,
    page: Option<AnyPage>,
}

static STATE: Mutex<State> = Mutex::new(State {
    input: Vec::new(),
    output: String::new(),
    page: None,
});

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut state = STATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut state)
}

/// Room for `len` bytes of input; the script writes them at the address returned.
#[unsafe(no_mangle)]
pub extern "C" fn buffer(len: usize) -> *mut u8 {
    with_state(|state| {
        state.input.clear();
        state.input.resize(len, 0);
        state.input.as_mut_ptr()
    })
}

/// Decodes the page's network from the input; 1 on success, else 0 with the error as output.
#[unsafe(no_mangle)]
pub extern "C" fn load() -> u32 {
    with_state(|state| match AnyPage::decode(&state.input) {
        Ok(page) => {
            state.page = Some(page);
            state.output.clear();
            1
        }
        Err(err) => {
            state.output = err.to_string();
            0
        }
    })
}

/// Runs the command in the input and makes its view the output; 0 before a network is loaded
/// or if the command is not UTF-8.
#[unsafe(no_mangle)]
pub extern "C" fn run() -> u32 {
    with_state(|state| {
        let (Some(page), Ok(command)) = (state.page.as_mut(), std::str::from_utf8(&state.input))
        else {
            return 0;
        };
        state.output = page.run(command);
        1
    })
}

/// Where the last output starts.
#[unsafe(no_mangle)]
pub extern "C" fn output() -> *const u8 {
    with_state(|state| state.output.as_ptr())
}

/// How many bytes the last output has.
#[unsafe(no_mangle)]
pub extern "C" fn output_len() -> usize {
    with_state(|state| state.output.len())
}
