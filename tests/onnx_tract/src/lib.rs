//! The tests of this crate (`tests/tract.rs`) run the ONNX models of `dropout` in tract, a
//! runtime that shares no code with it; the crate itself is empty, so that tract is compiled
//! only for them and not for every test of the `dropout-nn` crate.
