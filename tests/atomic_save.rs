//! A save that fails midway leaves the previous file byte for byte as it was.
//!
//! The failure is real: the process's file-size limit is lowered to 4 KiB (what `ulimit -f 4`
//! does in a shell), so writing more fails with `EFBIG`. The limit holds for the whole process,
//! which is why this is the only test in its binary.
#![cfg(unix)]

use dropout::{io, network};
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

network! {
    /// About 70 KB of JSON, 10 KB of safetensors: more than the limit.
    struct Net<f32> {
        input: 40,
        dense 64 relu,
        dense 3 identity,
    }
}

/// Lowers the limit on the size of files this process writes to `bytes`, and has the kernel
/// report a write beyond it as an error instead of stopping the process with `SIGXFSZ`.
/// Returns the limit to restore.
fn limit_file_size(bytes: u64) -> libc::rlimit {
    let mut previous = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    #[expect(
        unsafe_code,
        reason = "two calls into the C library that change process limits"
    )]
    // SAFETY: `getrlimit` writes into a valid `rlimit`; `setrlimit` reads one; ignoring SIGXFSZ
    // installs no handler.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &raw mut previous), 0);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &raw const limit), 0);
    }
    previous
}

fn restore(limit: &libc::rlimit) {
    #[expect(
        unsafe_code,
        reason = "a call into the C library that changes a process limit"
    )]
    // SAFETY: `setrlimit` reads a valid `rlimit`.
    unsafe {
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, limit), 0);
    }
}

#[test]
fn a_failed_save_leaves_the_previous_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (json, tensors) = (
        dir.path().join("net.json"),
        dir.path().join("net.safetensors"),
    );
    let old = Net::init(&mut ChaCha8Rng::seed_from_u64(1));
    io::save_json(&old, &json).unwrap();
    io::save_safetensors(&old, &tensors).unwrap();
    let (old_json, old_tensors) = (
        std::fs::read(&json).unwrap(),
        std::fs::read(&tensors).unwrap(),
    );
    assert!(old_json.len() > 8192 && old_tensors.len() > 8192);

    let new = Net::init(&mut ChaCha8Rng::seed_from_u64(2));
    let previous = limit_file_size(4096);
    // What a plain write does under the limit: it fails and leaves a fragment where the file was.
    let plain = dir.path().join("plain.json");
    std::fs::write(&plain, &old_json).unwrap_err();
    let fragment = std::fs::metadata(&plain).unwrap().len();
    let json_result = io::save_json(&new, &json);
    let tensors_result = io::save_safetensors(&new, &tensors);
    restore(&previous);

    assert_eq!(fragment, 4096, "the limit did not take effect");
    let err = json_result.unwrap_err();
    assert!(
        matches!(&err, dropout::Error::Io { path, .. } if path.ends_with("net.json")),
        "{err}"
    );
    assert!(tensors_result.is_err());
    assert_eq!(std::fs::read(&json).unwrap(), old_json);
    assert_eq!(std::fs::read(&tensors).unwrap(), old_tensors);
    // Neither save left its temporary file behind: only the three files written above remain.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    let loaded: Net = io::load_json(&json).unwrap();
    assert_eq!(loaded.h1.row(5), old.h1.row(5));
}
