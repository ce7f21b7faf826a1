//! Where the examples write their pictures: beside their own executable, in whatever build
//! directory Cargo used (`target/debug/examples/` by default; `CARGO_TARGET_DIR` may point
//! anywhere, and the directory exists because Cargo put the executable there).

use std::io;
use std::path::PathBuf;

/// The path of `file` beside the running example.
pub fn path(file: &str) -> io::Result<PathBuf> {
    let executable = std::env::current_exe()?;
    let directory = executable
        .parent()
        .ok_or_else(|| io::Error::other("the example's executable has no directory"))?;
    Ok(directory.join(file))
}
