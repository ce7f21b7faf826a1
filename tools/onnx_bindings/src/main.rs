//! `onnx-bindings PROTO_DIR OUT_DIR`: compiles `PROTO_DIR/onnx.proto3` and writes `OUT_DIR/onnx.rs`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [proto_dir, out_dir] = &args[..] else {
        eprintln!("usage: onnx-bindings PROTO_DIR OUT_DIR");
        return ExitCode::FAILURE;
    };
    let descriptors = match protox::compile(["onnx.proto3"], [proto_dir]) {
        Ok(descriptors) => descriptors,
        Err(err) => {
            eprintln!("{proto_dir}/onnx.proto3: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = prost_build::Config::new()
        .out_dir(out_dir)
        .compile_fds(descriptors)
    {
        eprintln!("writing {out_dir}/onnx.rs: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
