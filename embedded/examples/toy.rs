//! The smallest firmware with a declared network: the article's toy network, in a `static`
//! (its weights are constants in flash), one training pass under the article's masks and the
//! evaluation pass, printed through semihosting.
//!
//! ```sh
//! cargo run --release --target thumbv7m-none-eabi --example toy   # prints "masked -5 eval 1.5625"
//! ```

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use dropout::toy::{Toy, ToyMasks};

static TOY: Toy = Toy::new();

#[entry]
fn main() -> ! {
    let article = ToyMasks {
        input: [true, true],
        h1: [true, false, true],
        h2: [true, true, false],
        h3: [true, true],
    };
    let masked = TOY.forward_masked(&[1.0, 1.0], &article)[0];
    let eval = TOY.forward(&[1.0, 1.0])[0];
    hprintln!("masked {} eval {}", masked, eval);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
